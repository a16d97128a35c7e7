"""Importing a library without the optional modules it probes for at import time
and zsc never uses. Each probe answered "not installed" here is one the library
itself supports running without; what it saves is in the caller's note."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def without(*names: str) -> Iterator[None]:
    """Inside the block, `import name` fails with ImportError for each of `names` not
    imported yet; afterwards they can be imported again (the library keeps its answer)."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not found"
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
