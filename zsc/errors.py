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


class TooLarge(Rejected):
    """A file is over the configured size limit (nothing of it was kept)."""


class WrongApiUrl(Rejected):
    """The API answered that the method or path does not exist: the configured
    `api_url` points at the wrong place (a missing /api/, a typo). `setting` names it."""

    def __init__(self, api: str, message: str, setting: str) -> None:
        super().__init__(api, message)
        self.setting = setting


class RateLimited(ApiError):
    def __init__(self, api: str, retry_after: float) -> None:
        super().__init__(api, f"rate limited; retry after {retry_after:.0f}s")
        self.retry_after = retry_after


class Unavailable(ApiError):
    """5xx, timeouts, dropped connections or malformed answers on a read."""


class Ambiguous(ApiError):
    """A write whose outcome is unknown (timeout, dropped connection, 5xx): its
    intent stays pending and is resolved by a look-up on the next cycle."""


class UsageError(UserError):
    """A bad command-line value: one line and exit status 2, like a config error."""

    exit_code = 2


# The path as written cannot work (a file where a directory must be, a missing
# directory, a directory where a file must be): the setting is wrong, exit 2. Other
# failures (permissions, a read-only or full file system) are the host's: exit 1.
_PATH_IS_WRONG = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError)


def first_line(exc: BaseException) -> str:
    """An exception's message for one line of ours: its first line, or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def os_reason(exc: OSError, path: object = None) -> str:
    """The OS's words for a failed file operation on `path`, without the path it
    repeats; "X is a file, not a directory" when a component of `path` is a file."""
    from pathlib import Path

    if isinstance(exc, (FileExistsError, NotADirectoryError)) and path is not None:
        whole = Path(str(path))
        for part in (whole, *whole.parents):
            if part.exists() and not part.is_dir():
                return f"{'it' if part == whole else part} is a file, not a directory"
    return exc.strerror or str(exc) or type(exc).__name__


def path_fix(exc: OSError) -> str:
    """The usual fix for a file zsc could not create (a pidfile, a log file)."""
    if isinstance(exc, FileNotFoundError):
        return "create the directory or choose another path"
    if isinstance(exc, IsADirectoryError):
        return "name a file, not a directory"
    return "choose another path, or let zsc's user write there"


def path_error(exc: OSError, message: str) -> UserError:
    """`message` (which names the setting, the path, the reason and the fix) as
    ConfigError when the path as written cannot work, else UserError."""
    return (ConfigError if isinstance(exc, _PATH_IS_WRONG) else UserError)(message)


def process_user() -> str:
    """Who zsc runs as, for "writable by …" advice."""
    import os

    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"
