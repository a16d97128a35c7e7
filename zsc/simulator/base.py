"""Shared plumbing for the fake APIs: a threaded HTTP server, routing, call counting
(and the status of every answer), per-endpoint fault injection and a simulated
network round-trip time.

Each fake service subclasses `Service`, registers handlers with `@route`, and keeps
its state behind `self.lock`. Handlers get a `Request` and return a `Response`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import socket
import sys
import threading
import time
import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("429", "500", "503", "slow", "drop", "malformed", "shape", "refuse", "login")
# What a web login wall answers instead of the resource ("login"): 200 and an HTML page.
SIGN_IN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>...</form></body></html>"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    principal: Any = None  # whatever authenticate() accepted (e.g. a Token), for handlers
    _form: dict[str, Any] | None = field(default=None, repr=False)

    def value(self, name: str, default: Any = None) -> Any:
        """One raw value from the query string or a form/JSON body (Slack sends both);
        JSON bodies keep their types."""
        values = self.query.get(name)
        if values:
            return values[0]
        value = self.form().get(name)
        return default if value is None else value

    def arg(self, name: str, default: str | None = None) -> str | None:
        """One value as a string; structured JSON values come back JSON-encoded."""
        value = self.value(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def json_arg(self, name: str) -> Any:
        """A structured argument sent as JSON, or as a JSON-encoded string in a form.
        Raises ValueError when the string is not JSON."""
        value = self.value(name)
        return json.loads(value) if isinstance(value, str) else value

    def int_arg(self, name: str, default: int) -> int:
        """An integer argument; ValueError when it is not one."""
        raw = self.arg(name)
        return default if raw in (None, "") else int(raw)

    def flag(self, name: str) -> bool:
        """A boolean argument: clients send true/false, "1"/"0" or "true"/"false"."""
        value = self.value(name)
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true")
        return bool(value)

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body)

    def form(self) -> dict[str, Any]:
        if self._form is None:
            self._form = self._parse_body()
        return self._form

    def _parse_body(self) -> dict[str, Any]:
        ctype = self.headers.get("content-type", "")
        if not self.body:
            return {}
        if "json" in ctype:
            data = self.json()
            return data if isinstance(data, dict) else {}
        if ctype.startswith("multipart/form-data"):
            # slack_sdk sends `data=` arguments (oauth.v2.access, files) as multipart.
            return _parse_multipart(ctype, self.body)
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def bearer(self) -> str | None:
        """The token of an `Authorization: Bearer ...` header."""
        scheme, _, value = (self.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None

    def client_credentials(self) -> tuple[str | None, str | None]:
        """OAuth client id and secret, from HTTP Basic auth or from form fields
        (both are allowed by RFC 6749 and clients use either)."""
        scheme, _, value = (self.header("authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
                return client_id, secret
            except (binascii.Error, UnicodeDecodeError):
                return None, None
        return self.arg("client_id"), self.arg("client_secret")


def _parse_multipart(ctype: str, body: bytes) -> dict[str, Any]:
    message = BytesParser().parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    for part in message.get_payload() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        # Plain fields are text; uploaded files stay bytes.
        fields[name] = payload if part.get_filename() else payload.decode("utf-8")
    return fields


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain; charset=utf-8")
        return json.dumps(self.body if self.body is not None else {}).encode(), "application/json; charset=utf-8"


@dataclass
class Fault:
    kind: str
    times: int = 1
    retry_after: int = 1
    delay: float = 2.0  # for "slow": seconds to sit on the answer
    after: int = 0  # let this many calls through first
    body: Any = None  # for "shape": the (well-formed, wrong-shaped) JSON answered instead


Handler = Callable[[Request], Response]


class Abort(Exception):
    """Raise from a handler (or anything it calls) to answer with `response` at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class Token:
    value: str
    scopes: frozenset[str] = frozenset()
    expires_at: float | None = None  # on the now() clock; None = never
    revoked: bool = False


class TokenStore:
    """The credentials a fake accepts. Not locked itself: callers hold the service lock."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def add(self, value: str, scopes: Iterable[str] = (), ttl: float | None = None) -> Token:
        token = Token(value, frozenset(scopes), None if ttl is None else now() + ttl)
        self._tokens[value] = token
        return token

    def issue(self, prefix: str, scopes: Iterable[str] = (), ttl: float | None = None) -> Token:
        return self.add(prefix + secrets.token_hex(12), scopes, ttl)

    def revoke(self, value: str) -> None:
        self._tokens[value].revoked = True

    def check(self, value: str | None) -> tuple[Token | None, str]:
        """(token, "") when accepted, else (None, why): missing, unknown, revoked or expired."""
        if not value:
            return None, "missing"
        token = self._tokens.get(value)
        if token is None:
            return None, "unknown"
        if token.revoked:
            return None, "revoked"
        if token.expires_at is not None and now() >= token.expires_at:
            return None, "expired"
        return token, ""


class OAuthClients:
    """Registered OAuth apps. Not locked itself: callers hold the service lock."""

    def __init__(self) -> None:
        self._clients: dict[str, dict[str, Any]] = {}

    def register(self, client_id: str, client_secret: str, **info: Any) -> None:
        self._clients[client_id] = {"secret": client_secret, **info}

    def get(self, client_id: str | None) -> dict[str, Any] | None:
        return self._clients.get(client_id or "")

    def check(self, client_id: str | None, client_secret: str | None) -> str:
        """"" when the pair is good, else why not: unknown_client or bad_secret."""
        client = self.get(client_id)
        if client is None:
            return "unknown_client"
        if not secrets.compare_digest(client["secret"], client_secret or ""):
            return "bad_secret"
        return ""


def route(method: str, pattern: str, name: str):
    """Mark a Service method as the handler of `method pattern`; `name` is the
    endpoint name used for call counting and fault injection."""

    def mark(fn):
        fn._route = (method.upper(), re.compile("^" + pattern + "$"), name)
        return fn

    return mark


class Service:
    """One fake API. Subclasses add state and `@route` handlers."""

    name = "service"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.answers: Counter[tuple[str, int]] = Counter()  # (endpoint, HTTP status) of every answer sent
        self.requests: list[tuple[str, Request]] = []
        # Seconds each call takes on the network, half on the way in, half on the way
        # back (the real APIs are 50-300 ms away); 0 keeps the tests fast.
        self.latency = 0.0
        self._faults: dict[str, list[Fault]] = defaultdict(list)
        self._routes: list[tuple[str, re.Pattern, str, Handler]] = []
        for attr in dir(type(self)):
            fn = getattr(type(self), attr)
            spec = getattr(fn, "_route", None)
            if spec:
                self._routes.append((spec[0], spec[1], spec[2], getattr(self, attr)))
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control surface shared by all services ----
    def inject(self, endpoint: str, kind: str, times: int = 1, retry_after: int = 1, delay: float = 2.0,
               after: int = 0, body: Any = None) -> None:
        """Make `times` calls to `endpoint` fail with `kind` (see FAULT_KINDS), after
        letting `after` calls through untouched.

        "slow" and "drop" apply the effect first (the write happens), then sit on the
        answer past the client's timeout or close the connection without answering;
        "malformed" and "shape" apply it and answer 200 with a body that is not JSON, or
        with `body` (JSON of the wrong shape, as a broken proxy or API version might);
        "login" applies nothing and answers with the service's sign-in page (`login_page`),
        as file URLs do for a credential they do not accept."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self.lock:
            self._faults[endpoint].append(Fault(kind, times, retry_after, delay, after, body))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()
            self.answers.clear()
            self.requests.clear()

    def set_latency(self, seconds: float) -> None:
        """Make every call take `seconds` more (a round trip to a distant server)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self.latency = seconds

    def refused(self, status: int = 429) -> int:
        """How many answers had `status` (by default: rate limited) since the last reset."""
        with self.lock:
            return sum(n for (_, code), n in self.answers.items() if code == status)

    @property
    def url(self) -> str:
        assert self.server is not None, "service not started"
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0) -> None:
        service = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stalls

            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                service._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = _QuietServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        # A short poll interval keeps stop() (which waits for the loop to notice) quick.
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sim-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # ---- plumbing ----
    def _take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            queue = self._faults.get(endpoint)
            if not queue:
                return None
            fault = queue[0]
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        req = Request(h.command, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, body)
        handler, endpoint = self._match(req)
        if self.latency:
            time.sleep(self.latency / 2)  # the request on its way; outside the lock, as calls overlap
        if handler is None:
            self._send(h, self.not_found(req))
            return
        with self.lock:
            self.calls[endpoint] += 1
            self.requests.append((endpoint, req))
        fault = self._take_fault(endpoint)
        if fault and fault.kind in ("429", "500", "503"):
            self._send(h, self.fault_response(fault), endpoint)
            return
        if fault and fault.kind == "refuse":
            self._send(h, Response(200, fault.body if fault.body is not None else {}), endpoint)
            return
        if fault and fault.kind == "login":
            self._send(h, self.login_page(req))
            return
        try:
            # One request at a time touches the state, so handlers need no locking of their own.
            with self.lock:
                denied = self.authenticate(req, endpoint)
                resp = denied if denied is not None else handler(req)
        except Abort as abort:
            resp = abort.response
        except Exception as exc:  # a bug in the fake must show up, not hang the client
            resp = Response(500, {"error": "SimulatorBug", "description": repr(exc)})
        if fault and fault.kind == "drop":
            # The effect is applied; the client never hears about it.
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault and fault.kind == "malformed":
            resp = Response(200, b"<html>502 Bad Gateway</html>", {"Content-Type": "application/json"})
        if fault and fault.kind == "shape":
            resp = Response(200, fault.body if fault.body is not None else {})
        self._send(h, resp, endpoint)

    def _match(self, req: Request) -> tuple[Handler | None, str]:
        for method, pattern, name, handler in self._routes:
            if method != req.method:
                continue
            m = pattern.match(req.path)
            if m:
                req.params = m.groupdict()
                return handler, name
        return None, ""

    def _send(self, h: BaseHTTPRequestHandler, resp: Response, endpoint: str = "") -> None:
        if endpoint:
            with self.lock:
                self.answers[(endpoint, resp.status)] += 1
        if self.latency:
            time.sleep(self.latency / 2)  # the answer on its way back
        payload, ctype = resp.encode()
        try:
            h.send_response(resp.status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(payload)))
            for k, v in resp.headers.items():
                if k.lower() != "content-type":
                    h.send_header(k, v)
            h.end_headers()
            h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); the effect, if any, stays applied

    # ---- hooks for subclasses ----
    def authenticate(self, req: Request, endpoint: str) -> Response | None:
        """Return an error Response to refuse the call, None to let it through."""
        return None

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            return Response(429, {"error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
        return Response(int(fault.kind), {"error": "ServerError"})

    def not_found(self, req: Request) -> Response:
        return Response(404, {"error": "InvalidEndpoint", "description": f"{req.method} {req.path}"})

    def login_page(self, req: Request) -> Response:
        """What the service's web front answers a request it will not serve: its sign-in page."""
        return Response(200, SIGN_IN_PAGE, {"Content-Type": "text/html; charset=utf-8"})


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a download abandoned unread, a timeout) is no server
    error: nothing printed. Anything else is still reported."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RollingWindow:
    """At most `limit` events in any 60 s; knows how long until the next slot frees."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: deque[float] = deque()

    def retry_after(self, t: float) -> int:
        """0 if a call may go now, else whole seconds (>= 1) until one may."""
        while self._times and self._times[0] <= t - 60:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0
        return max(1, math.ceil(self._times[0] + 60 - t))

    def record(self, t: float) -> None:
        self._times.append(t)


def now() -> float:
    """The simulators' clock: wall time, so freezegun in a test moves zsc and the fakes together."""
    return time.time()
