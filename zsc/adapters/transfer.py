"""Moving file bytes over plain HTTP for the adapters: a capped download (the
credential only ever sent to the API's own hosts) and a raw upload. Raises zsc errors
through the caller's RateGate wrapper (Transient/Limited)."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from zsc.adapters.http import requests
from zsc.adapters.ratelimit import Limited, Transient
from zsc.errors import AuthError, NotFound, Rejected, TooLarge

CHUNK = 64 * 1024


def same_site(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether `url` is on one of `hosts` (or a subdomain of one): credentials go nowhere else."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and any(host == h or host.endswith("." + h) for h in hosts if h)


def fetch(session: requests.Session | None, url: str, *, api: str, what: str, max_bytes: int, timeout: float,
          headers: dict[str, str] | None = None, scope_hint: str = "", content_type: str = "",
          size: int | None = None) -> bytes:
    """GET `url` and return its bytes, stopping (TooLarge) as soon as more than
    `max_bytes` arrive. 401/403 are AuthError (with `scope_hint`), 404 NotFound.

    A 200 is only the file when it looks like it: a web page (a sign-in page: Slack's
    answer to a token without files:read, Zendesk's redirect for a refused credential) is
    AuthError, an API's JSON is Transient, unless the file itself (`content_type`) is of
    that kind; bytes of another length than the file's `size` are Transient."""
    getter: Callable = session.get if session is not None else requests.get
    try:
        response = getter(url, headers=headers or {}, timeout=timeout, stream=True, allow_redirects=True)
    except requests.RequestException as exc:
        raise Transient(f"{what}: no answer ({type(exc).__name__})", network=True) from None
    with response:
        if response.status_code == 429:
            raise Limited(float(response.headers.get("Retry-After") or 1))
        if response.status_code >= 500:
            raise Transient(f"{what}: HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise AuthError(api, f"{what}: HTTP {response.status_code} — the download was refused{scope_hint}")
        if response.status_code == 404:
            raise NotFound(api, f"{what}: not found")
        if response.status_code >= 400:
            raise Rejected(api, f"{what}: HTTP {response.status_code}")
        answered = _media_type(response.headers.get("Content-Type", ""))
        if answered == "text/html" != _media_type(content_type):
            raise AuthError(api, f"{what}: answered with a web page (a sign-in page) instead of the file{scope_hint}")
        if answered == "application/json" != _media_type(content_type):
            raise Transient(f"{what}: answered with JSON instead of the file")
        data = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise TooLarge(api, f"{what}: larger than the limit of {max_bytes} bytes")
        except requests.RequestException as exc:
            raise Transient(f"{what}: download broke off ({type(exc).__name__})", network=True) from None
        if size is not None and len(data) != size:
            raise Transient(f"{what}: got {len(data)} bytes of a file of {size}")
        return bytes(data)


def _media_type(content_type: str) -> str:
    """"text/html; charset=utf-8" -> "text/html"."""
    return content_type.split(";", 1)[0].strip().lower()
