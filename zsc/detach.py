"""`zsc run --detach`, for hosts without systemd: become a classic daemon with
python-daemon (double fork, new session, no terminal, stdio on /dev/null).

Everything that can fail for a reason a person must fix (config, credentials, a
running instance, the pid file) is checked by the caller *before* this, so it is
reported on the terminal. Nothing that holds a connection may be opened before it:
the fork closes every descriptor not listed in `preserve`."""

from __future__ import annotations

import os

from zsc.locks import PidFile


def detach_process(pidfile: PidFile | None, preserve: list[int]) -> None:
    """Return in the daemon process; the parent exits 0 inside this call."""
    import gc

    import daemon

    # The fork closes every descriptor not kept; collect garbage first so no object
    # that owns one (a socket in a reference cycle) is closed later, by number,
    # after that number has been reused for the store or a log file.
    gc.collect()
    keep = list(preserve) + ([pidfile.fd] if pidfile is not None and pidfile.fd is not None else [])
    context = daemon.DaemonContext(
        detach_process=True,
        pidfile=pidfile,  # entered after the fork: writes the daemon's pid; removed at exit
        files_preserve=keep,
        # Keep the current directory, so relative paths in the config and on the
        # command line mean what they meant when zsc was started.
        working_directory=os.getcwd(),
        umask=0o077,  # the store and logs hold customer data
    )
    context.open()
