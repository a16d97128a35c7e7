"""HTTP plumbing of the fake Zendesk: error translation, list pagination, idempotency
replays, credentials and request parsing. Zendesk's rules live in zendesk_model."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from zsc.simulator.base import Request, Response, now, route
from zsc.simulator.zendesk_records import ApiError, decode_cursor, encode_cursor, invalid_value

LIST_PAGE_MAX = 100
IDEMPOTENCY_TTL = 2 * 3600


def zd_route(method: str, pattern: str, name: str):
    """`route` plus translation of ApiError into Zendesk's JSON error response, so
    handlers (and the Desk under them) can simply raise."""

    def mark(fn):
        @functools.wraps(fn)
        def handler(self, req: Request) -> Response:
            try:
                return fn(self, req)
            except ApiError as err:
                return Response(err.status, err.body)

        return route(method, pattern, name)(handler)

    return mark


@dataclass
class Credential:
    user_id: int
    scopes: tuple[str, ...] = ("read", "write")


@dataclass
class OAuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    user_id: int
    expires_at: float
    used: bool = False


@dataclass
class IdempotentResult:
    fingerprint: str
    response: Response
    expires_at: float


def idempotent_replay(store: dict, key: str, req: Request) -> Response | None:
    """The stored answer for a repeat of `key`, a 400 for a different request under
    the same key, or None when the key is new (or expired)."""
    stored = store.get(key)
    if stored is None or stored.expires_at <= now():
        return None
    if stored.fingerprint != fingerprint(req):
        return Response(400, {"error": "IdempotentRequestError",
                              "description": "The request does not match the original request "
                                             "made with this Idempotency-Key"})
    replay = stored.response
    return Response(replay.status, replay.body, {**replay.headers, "x-idempotency-lookup": "hit"})


def remember_idempotent(store: dict, key: str, req: Request, resp: Response) -> None:
    stored = Response(resp.status, json.loads(json.dumps(resp.body)), dict(resp.headers))
    store[key] = IdempotentResult(fingerprint(req), stored, now() + IDEMPOTENCY_TTL)


def paginate(req: Request, items: list[dict], key: str) -> dict:
    """A page of `items` (sorted by id). `page[size]` asks for cursor pagination
    (zenpy sends it for tickets and comments); otherwise page/per_page offsets."""
    if any(name.startswith("page[") for name in req.query):
        return cursor_paginate(req, items, key)
    per_page = bounded_int(req.arg("per_page"), LIST_PAGE_MAX, LIST_PAGE_MAX)
    page = max(1, bounded_int(req.arg("page"), 1, 10**9))
    start = (page - 1) * per_page
    chunk = items[start:start + per_page]


    def page_url(n: int) -> str:
        params = {k: v[0] for k, v in req.query.items() if k not in ("page", "per_page")}
        return url(req, req.path, {**params, "page": n, "per_page": per_page})

    return {
        key: chunk,
        "next_page": page_url(page + 1) if start + per_page < len(items) else None,
        "previous_page": page_url(page - 1) if page > 1 else None,
        "count": len(items),
    }


def cursor_paginate(req: Request, items: list[dict], key: str) -> dict:
    size = bounded_int(req.arg("page[size]"), LIST_PAGE_MAX, LIST_PAGE_MAX)
    after, before = req.arg("page[after]"), req.arg("page[before]")
    if before:
        older = [i for i in items if i["id"] < decode_cursor(before).get("id", 0)]
        chunk, has_more = older[-size:], len(older) > size
    else:
        start_id = decode_cursor(after).get("id", 0) if after else 0
        newer = [i for i in items if i["id"] > start_id]
        chunk, has_more = newer[:size], len(newer) > size
    after_cursor = encode_cursor({"id": chunk[-1]["id"]}) if chunk else None
    before_cursor = encode_cursor({"id": chunk[0]["id"]}) if chunk else None
    params = {k: v[0] for k, v in req.query.items() if not k.startswith("page[")}


    def link(direction: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return url(req, req.path, {**params, "page[size]": size, f"page[{direction}]": cursor})

    return {
        key: chunk,
        "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
        "links": {"next": link("after", after_cursor), "prev": link("before", before_cursor)},
    }


def url(req: Request, path: str, params: dict) -> str:
    """Absolute URL on the host the client used, as Zendesk's next-page links are."""
    host = req.header("host") or "127.0.0.1"
    return f"http://{host}{path}?{urlencode(params)}"


def forbidden() -> Response:
    return Response(403, {"error": "Forbidden", "description": "You do not have access to this page. "
                          "Please contact the account owner of this help desk for further help."})


def oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})


def grant_problem(grant: OAuthCode | None, form: dict) -> str | None:
    if grant is None:
        return "The authorization code is invalid"
    if grant.used:
        return "The authorization code has already been used"
    if grant.expires_at <= now():
        return "The authorization code has expired"
    if grant.client_id != form.get("client_id"):
        return "The authorization code was issued to another client"
    if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
        return "The redirect_uri does not match the one used to authorize"
    return None


def json_object(req: Request, key: str) -> dict:
    """The `{key: {...}}` body of a write, or Zendesk's 400 for anything else."""
    try:
        data = req.json()
    except ValueError:
        raise ApiError(400, {"error": "InvalidJSON", "description": "The request body is not valid JSON"}) from None
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise ApiError(400, {"error": "InvalidValue", "description": f"Expected a {key!r} object"})
    return data[key]


def fingerprint(req: Request) -> str:
    try:
        body = json.dumps(req.json(), sort_keys=True)
    except ValueError:
        body = req.body.decode("utf-8", "replace")
    return f"{req.method} {req.path} {body}"


def id_list(raw: str | None) -> list[int]:
    try:
        return [int(part) for part in (raw or "").split(",") if part.strip()]
    except ValueError:
        raise invalid_value(f"ids must be integers: {raw!r}") from None


def bounded_int(raw: str | None, default: int, maximum: int) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        raise invalid_value(f"not a number: {raw!r}") from None
    return max(1, min(value, maximum))
