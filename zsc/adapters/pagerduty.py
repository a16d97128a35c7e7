"""PagerDuty REST API v2 through pdpyras: who is on call for an escalation policy.

The only module importing pdpyras (deprecated upstream in favour of `pagerduty`), so
a swap is one file. Every failure becomes a zsc error (AuthError for a refused
credential, NotFound, RateLimited, Unavailable for the rest) whose text is written here: pdpyras'
own messages quote the key's last characters, so they never reach a log.

Every call goes through a RateGate (api "PagerDuty"), as Slack's and Zendesk's do: it
is counted in the daemon's metrics, a 429's wait (`Retry-After`, else PagerDuty's own
`ratelimit-reset`) holds back every later call until it has passed, and it is waited
out in place (once) when short. pdpyras retries nothing itself: a 429 or 5xx is turned
into the gate's exception as soon as it arrives, before pdpyras' retry loop sees it.
PagerDuty is an optional nicety next to the ticket flow, so a server or network failure
is not retried in place: an outage costs one request timeout, never a stalled sync loop.
"""

from __future__ import annotations

import functools
import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, TypeVar
from urllib.parse import quote

from zsc.adapters.ratelimit import Limited, RateGate, Transient
from zsc.adapters.records import OnCallPerson
from zsc.errors import AuthError, NotFound, Unavailable

API = "PagerDuty"
DEFAULT_TOKEN_URL = "https://identity.pagerduty.com/oauth/token"
REFRESH_EARLY = 60.0  # seconds: renew an OAuth token this long before it expires
DEFAULT_TOKEN_TTL = 3600.0  # when the token answer has no expires_in
WAIT_IN_PLACE = 5.0  # seconds a call may wait for the rate limit (longer: fail now, ask later)

T = TypeVar("T")


class _OnlyDebug(logging.Filter):
    """pdpyras logs every failed attempt at WARNING/ERROR; zsc reports the failure
    once itself (zsc.sync.oncall), so only pdpyras' debug trace is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


# A child of "pdpyras": inherits the level zsc.logs sets there (debug with --debug).
_CLIENT_LOG = logging.getLogger("pdpyras.zsc")
_CLIENT_LOG.addFilter(_OnlyDebug())


def _pdpyras() -> Any:
    """Import pdpyras without its deprecation warning reaching the user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import zsc.adapters.http  # noqa: F401 - requests as zsc imports it, before pdpyras does
        import pdpyras
    return pdpyras


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    levels: int  # number of escalation rules


class PagerDutyAdapter:
    """An API token (`token`), an OAuth access token obtained elsewhere (`oauth_token`,
    e.g. the old zenslackchat bot's; sent as Bearer), or an OAuth app's client
    credentials (`client_id`, `client_secret`, exchanged at `token_url` and renewed
    before they expire)."""

    def __init__(self, api_url: str, token: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None, token_url: str | None = None, timeout: float = 5.0,
                 scope: str = "read", oauth_token: str | None = None, gate: RateGate | None = None) -> None:
        if not token and not oauth_token and not (client_id and client_secret):
            raise AuthError(API, "no credentials; set [pagerduty] token, oauth_token, or client_id and client_secret")
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._token = token or oauth_token or None
        self._auth_type = "token" if token else "oauth2"  # an API key, or a Bearer access token
        self._client = (client_id, client_secret) if not (token or oauth_token) else None
        self._token_url = token_url or DEFAULT_TOKEN_URL
        self._scope = scope
        self._session: Any = None
        self._expires_at = 0.0  # of the OAuth access token, in time.time() seconds
        # One try for a failure, one more after a 429's wait (see the module's docstring).
        self.gate = gate or RateGate(API, max_wait=WAIT_IN_PLACE, retries=1, transient_retries=0)

    # ---- reads ----
    def oncall(self, policy_id: str) -> list[tuple[int, str]]:
        """(escalation level, person's name) for everyone on call now, in PagerDuty's order."""
        return [(person.level, person.name) for person in self.oncall_people(policy_id)]

    def oncall_people(self, policy_id: str) -> list[OnCallPerson]:
        """Everyone on call now, with their level, name and email, in PagerDuty's order."""
        params = {
            "escalation_policy_ids[]": [policy_id],
            "earliest": "true",  # one entry per person and level; requests would send True as "True"
            "include[]": ["users"],  # full users carry `name` and `email`; references only `summary`
        }
        entries = self._call("oncalls", lambda s: list(s.iter_all("oncalls", params=params)))
        return [_oncall_entry(entry) for entry in entries]

    def policy(self, policy_id: str) -> Policy:
        """The escalation policy, to check the configured id (and credentials) work."""
        what = "escalation policy"  # (no id: it names the call in the metrics; the id is in the config)
        data = self._call(what, lambda s: s.rget(f"escalation_policies/{quote(policy_id, safe='')}"))
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise Unavailable(API, f"{what}: malformed answer")
        rules = data.get("escalation_rules")
        return Policy(str(data.get("id") or policy_id), data["name"], len(rules) if isinstance(rules, list) else 0)

    # ---- plumbing ----
    def _call(self, what: str, fn: Callable[[Any], T]) -> T:
        """Run `fn(session)` under the gate; every failure leaves as a zsc error."""
        pdpyras = _pdpyras()
        session = self._current_session()  # (an OAuth token is fetched through the gate on its own)

        def attempt() -> T:
            try:
                with warnings.catch_warnings():
                    # e.g. a page without "more": pdpyras warns and stops paging, which is fine here
                    warnings.simplefilter("ignore")
                    return fn(session)
            except pdpyras.PDHTTPError as exc:  # an answer with an error status, or a body that is not JSON
                raise _http_error(what, exc.response) from None
            except pdpyras.PDClientError as exc:  # no answer: connection refused or dropped, timeout
                raise Transient(_network_error(what, exc.__cause__, self.timeout), network=True) from None
            except (pdpyras.URLError, TypeError, ValueError, KeyError, AttributeError):
                # JSON of the wrong shape (e.g. "oncalls": null) trips pdpyras' unpacking
                raise Transient(f"{what}: malformed answer") from None

        try:
            return self.gate.call(attempt, what=what)
        except AuthError:
            if self._client:
                self._expires_at = 0.0  # a revoked OAuth token: fetch a new one next time
            raise

    def _current_session(self) -> Any:
        if self._client and time.time() >= self._expires_at - REFRESH_EARLY:
            access_token, expires_in = self._fetch_token()
            self._expires_at = time.time() + expires_in
            if self._session is None:
                self._session = self._new_session(access_token, "oauth2")
            else:
                self._session.api_key = access_token  # the setter updates the Authorization header
        elif self._session is None:
            self._session = self._new_session(self._token, self._auth_type)
        return self._session

    def _new_session(self, key: str, auth_type: str) -> Any:
        session = _gated_session_class()(key, auth_type=auth_type)
        session.url = self.api_url
        session.timeout = self.timeout
        session.log = _CLIENT_LOG
        # pdpyras' defaults: 3 network attempts with growing sleeps and 429 retried forever
        # (its postprocess, below, hands 429 and 5xx to the gate before that loop runs).
        session.max_network_attempts = 0  # `attempts > max` raises, so 0 means one try
        session.retry = {}
        return session

    def _fetch_token(self) -> tuple[str, float]:
        """OAuth client-credentials grant (RFC 6749 4.4): (access token, lifetime in seconds)."""
        from zsc.adapters.http import requests  # pdpyras' own HTTP library

        client_id, client_secret = self._client or ("", "")
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
                "scope": self._scope}
        what = "OAuth token"

        def attempt() -> tuple[str, float]:
            try:
                response = requests.post(self._token_url, data=form, timeout=self.timeout,
                                         headers={"Accept": "application/json"})
            except requests.RequestException as exc:
                raise Transient(_network_error(what, exc, self.timeout), network=True) from None
            _raise_for_gate(response, what)
            try:
                data = response.json()
            except ValueError:
                data = None
            if response.status_code in (400, 401, 403):
                # RFC 6749 error codes (invalid_client, invalid_scope...) name the problem, not the secret.
                code = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), str) else ""
                raise AuthError(API, f"{what}: client credentials refused{f' ({code[:40]})' if code else ''}; "
                                     "check [pagerduty] client_id and client_secret, and that the app has the read scope")
            if not response.ok:
                raise Unavailable(API, f"{what}: HTTP {response.status_code}")
            token = data.get("access_token") if isinstance(data, dict) else None
            expires_in = data.get("expires_in", DEFAULT_TOKEN_TTL) if isinstance(data, dict) else None
            if not isinstance(token, str) or not token.strip() or not _is_number(expires_in):
                raise Transient(f"{what}: malformed answer")
            return token.strip(), float(expires_in)

        return self.gate.call(attempt, what=what)


@functools.cache
def _gated_session_class() -> Any:
    """pdpyras' APISession, telling the gate of a 429 or 5xx as soon as one arrives:
    postprocess runs on every answer before pdpyras' own retry loop, and what it
    raises (not a requests error) leaves that loop at once. (Made on first use: pdpyras
    is imported only when PagerDuty is.)"""

    class GatedSession(_pdpyras().APISession):
        def postprocess(self, response: Any, suffix: Any = None) -> None:
            super().postprocess(response, suffix)
            _raise_for_gate(response, "")

    return GatedSession


def _raise_for_gate(response: Any, what: str) -> None:
    """Limited for a 429 (waiting what it asks: Retry-After, else PagerDuty's
    ratelimit-reset, in seconds), Transient for a server error."""
    status = response.status_code
    if status == 429:
        wait = response.headers.get("Retry-After") or response.headers.get("ratelimit-reset")
        raise Limited(_seconds(wait))
    if status >= 500:
        raise Transient(f"{what + ': ' if what else ''}HTTP {status}")


def _seconds(value: Any) -> float:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0


def _oncall_entry(entry: Any) -> OnCallPerson:
    level = entry.get("escalation_level") if isinstance(entry, dict) else None
    user = entry.get("user") if isinstance(entry, dict) else None
    name = (user.get("name") or user.get("summary")) if isinstance(user, dict) else None
    if not isinstance(level, int) or isinstance(level, bool) or not isinstance(name, str) or not name.strip():
        raise Unavailable(API, "oncalls: malformed answer (an entry without escalation level or user name)")
    email = user.get("email")
    return OnCallPerson(level, name.strip(), email.strip() if isinstance(email, str) and email.strip() else None)


def _http_error(what: str, response: Any) -> Exception:
    status = getattr(response, "status_code", 0)
    if status in (401, 403):
        return AuthError(API, f"{what}: credentials refused (HTTP {status}); check [pagerduty] token, "
                              "or client_id and client_secret, and that the key may read on-call data")
    if status == 404:
        return NotFound(API, f"{what}: not found; check [pagerduty] escalation_policy_id and api_url")
    if 200 <= status < 300:
        return Transient(f"{what}: malformed answer (not JSON)")
    return Unavailable(API, f"{what}: HTTP {status}")


def _network_error(what: str, cause: BaseException | None, timeout: float) -> str:
    from zsc.adapters.http import requests

    if isinstance(cause, requests.Timeout):
        return f"{what}: no answer within {timeout:g}s"
    # The class name only: a library's message may quote the URL or headers.
    return f"{what}: connection failed ({type(cause).__name__ if cause else 'network error'})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
