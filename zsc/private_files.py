"""Files and directories only zsc may read: the store and its directory hold customer
text, lock files name the host. Created private whatever the umask. (Apart from
zsc.locks so that opening the store needs no logging library.)"""

from __future__ import annotations

import os
from pathlib import Path

from zsc.errors import os_reason, path_error, process_user

PRIVATE_DIR = 0o700  # the state directory zsc creates: the store holds customer text
PRIVATE_FILE = 0o600  # the database (and so its -wal/-shm, which SQLite gives the db's mode) and lock files


def make_parent_directory(path: str) -> None:
    """Create the directory of the SQLite database `path` ([database] url) if need be:
    private (0700) whatever the umask; a directory that exists is left as it is."""
    parent = Path(path).parent
    missing = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=PRIVATE_DIR)
            except FileExistsError:
                continue  # made meanwhile by another process: not ours to chmod
            os.chmod(directory, PRIVATE_DIR)  # mkdir's mode is masked by the umask
        parent.mkdir(parents=True, exist_ok=True)  # a file where the directory should be: FileExistsError
    except OSError as exc:
        raise path_error(exc, f"[database] url: cannot create the directory {parent} for the SQLite database: "
                              f"{os_reason(exc, parent)}; point [database] url at a path in a directory "
                              f"writable by {process_user()}") from None


def create_private(path: str | Path, flags: int = os.O_RDWR) -> int:
    """Open `path`, creating it 0600 (whatever the umask) if it does not exist; an
    existing file keeps its mode. Returns the descriptor."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the mode given to open() is masked by the umask
    except OSError:
        os.close(fd)
        raise
    return fd
