"""Moving file bytes over plain HTTP for the adapters: a capped download (the
credential only ever sent to the API's own hosts) and a raw upload. Raises zsc errors
through the caller's RateGate wrapper (Transient/Limited)."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

import requests

from zsc.adapters.ratelimit import Limited, Transient
from zsc.errors import AuthError, NotFound, Rejected, TooLarge

CHUNK = 64 * 1024


def same_site(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether `url` is on one of `hosts` (or a subdomain of one): credentials go nowhere else."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and any(host == h or host.endswith("." + h) for h in hosts if h)


def fetch(session: requests.Session | None, url: str, *, api: str, what: str, max_bytes: int, timeout: float,
          headers: dict[str, str] | None = None, scope_hint: str = "") -> bytes:
    """GET `url` and return its bytes, stopping (TooLarge) as soon as more than
    `max_bytes` arrive. 401/403 are AuthError (with `scope_hint`), 404 NotFound."""
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
        ctype = response.headers.get("Content-Type", "")
        if ctype.startswith("text/html"):  # a login page instead of the file: not authorised
            raise AuthError(api, f"{what}: answered with a web page instead of the file{scope_hint}")
        data = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise TooLarge(api, f"{what}: larger than the limit of {max_bytes} bytes")
        except requests.RequestException as exc:
            raise Transient(f"{what}: download broke off ({type(exc).__name__})", network=True) from None
        return bytes(data)
