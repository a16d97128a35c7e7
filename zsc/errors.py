"""Errors a user can fix: shown as one line, never with a traceback."""


class UserError(Exception):
    """Something the operator can fix; the message says what, where and how."""

    exit_code = 1


class ConfigError(UserError):
    """Bad or missing configuration: exit status 2."""

    exit_code = 2


class RemoteError(UserError):
    """A remote API refused or failed in a way the operator must fix (auth, channel...)."""

    exit_code = 1


class ApiError(UserError):
    """A remote API call failed. `api` names the service, `retryable` says whether
    waiting and trying again can help."""

    retryable = True

    def __init__(self, api: str, message: str) -> None:
        super().__init__(f"{api}: {message}")
        self.api = api


class AuthError(ApiError):
    """The credential was refused: waiting will not help, a person must fix it.
    `needed` names a missing OAuth scope when the API says which."""

    retryable = False

    def __init__(self, api: str, message: str, needed: str | None = None) -> None:
        super().__init__(api, message)
        self.needed = needed


class NotFound(ApiError):
    retryable = False


class Rejected(ApiError):
    """The far side refused a write for good (e.g. a closed ticket)."""

    retryable = False


class RateLimited(ApiError):
    def __init__(self, api: str, retry_after: float) -> None:
        super().__init__(api, f"rate limited; retry after {retry_after:.0f}s")
        self.retry_after = retry_after


class Unavailable(ApiError):
    """5xx, timeouts, dropped connections or malformed answers on a read."""


class Ambiguous(ApiError):
    """A write whose outcome is unknown (timeout, dropped connection, 5xx): its
    intent stays pending and is resolved by a look-up on the next cycle."""
