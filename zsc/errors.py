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
