"""OAuth for `zsc auth`: authorize URLs and code exchanges for Slack (OAuth v2) and
Zendesk (authorization code). PagerDuty's client-credentials grant lives in
zsc.adapters.pagerduty, which renews its tokens itself.

Each exchange returns the provider's answer or raises a zsc error whose message says
what to do; no message ever includes a secret, a code or a token. Slack goes through
slack_sdk's own `oauth_v2_access`; Zendesk's is one plain POST, for which zenpy
offers nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from zsc.adapters.http import requests
from zsc.errors import AuthError, Rejected, Unavailable

# What Slack answers on oauth.v2.access, and what the operator should do about it.
SLACK_EXCHANGE_ERRORS = {
    "invalid_code": "the code is invalid or has expired (a code lasts 10 minutes and works once); "
                    "run `zsc auth slack` again",
    "code_already_used": "that code was already used; run `zsc auth slack` again for a fresh one",
    "invalid_client_id": "Slack does not know [slack] client_id; copy it from api.slack.com/apps → Basic Information",
    "bad_client_secret": "Slack refused [slack] client_secret; copy it from api.slack.com/apps → Basic Information",
    "bad_redirect_uri": "[slack] redirect_uri is not one of the app's Redirect URLs (OAuth & Permissions); "
                        "make them match",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# ---------------------------------------------------------------- Slack

def slack_authorize_url(api_url: str, client_id: str, scopes: tuple[str, ...], redirect_uri: str, state: str) -> str:
    """https://slack.com/oauth/v2/authorize?…, on the host of [slack] api_url so a test
    double works too. Built here rather than with slack_sdk's AuthorizeUrlGenerator,
    which does not URL-encode the redirect URI."""
    params = {"client_id": client_id, "scope": ",".join(scopes), "state": state}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    return f"{_origin(api_url)}/oauth/v2/authorize?{urlencode(params)}"


def slack_exchange(api_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str,
                   timeout: float) -> dict[str, Any]:
    """oauth.v2.access: the code for a bot token. Returns Slack's answer
    ({access_token, scope, bot_user_id, team, ...})."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(base_url=api_url if api_url.endswith("/") else api_url + "/", timeout=int(max(1, timeout)))
    try:
        response = client.oauth_v2_access(client_id=client_id, client_secret=client_secret, code=code,
                                          redirect_uri=redirect_uri or None)
    except SlackApiError as exc:
        error = str((exc.response.data or {}).get("error", "")) if isinstance(exc.response.data, dict) else ""
        status = getattr(exc.response, "status_code", 0)
        if status == 429 or status >= 500:
            raise Unavailable("Slack", f"oauth.v2.access: HTTP {status}; try again in a minute") from None
        raise AuthError("Slack", f"oauth.v2.access: {SLACK_EXCHANGE_ERRORS.get(error, error or f'HTTP {status}')}") from None
    except OSError as exc:  # URLError, timeouts, refused connections
        raise Unavailable("Slack", f"oauth.v2.access: cannot reach {_origin(api_url)} ({type(exc).__name__})") from None
    data = response.data if isinstance(response.data, dict) else {}
    if not data.get("access_token"):
        raise Rejected("Slack", "oauth.v2.access: the answer carried no access token; is the app a Slack app with bot scopes?")
    return data


# ---------------------------------------------------------------- Zendesk

def zendesk_authorize_url(api_url: str, client_id: str, scopes: tuple[str, ...], redirect_uri: str, state: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": " ".join(scopes), "state": state}
    return f"{api_url.rstrip('/')}/oauth/authorizations/new?{urlencode(params)}"


def zendesk_exchange(api_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str,
                     scopes: tuple[str, ...], timeout: float) -> dict[str, Any]:
    """POST /oauth/tokens (authorization_code grant). Returns {access_token, scope, ...}."""
    body = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
            "client_secret": client_secret, "redirect_uri": redirect_uri, "scope": " ".join(scopes)}
    return _post_token("Zendesk", f"{api_url.rstrip('/')}/oauth/tokens", timeout, json=body)


def _post_token(api: str, url: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    where = urlsplit(url).path
    try:
        response = requests.post(url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        raise Unavailable(api, f"POST {where}: cannot reach {_origin(url)} ({type(exc).__name__})") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    if response.status_code == 429 or response.status_code >= 500:
        raise Unavailable(api, f"POST {where}: HTTP {response.status_code}; try again in a minute")
    if response.status_code >= 400 or not data.get("access_token"):
        # RFC 6749 errors: invalid_client (id/secret), invalid_grant (code bad, used or expired)...
        error = str(data.get("error") or f"HTTP {response.status_code}")
        description = str(data.get("error_description") or "")
        raise AuthError(api, f"POST {where}: {error}" + (f": {description}" if description else ""))
    return data
