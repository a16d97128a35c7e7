"""The decisions: what to mirror, in which order, and when a cursor may advance.

Its one public entry is `Engine` (built by `build_engine`): start positions, one
source's poll, a whole cycle, the daily report and check-missing. Adapters do the
talking (typed by the Protocols of zsc.adapters), the store remembers; features are
called explicitly from the paths that need them, never registered by import.
Nothing here imports click, the daemon or the CLI."""


from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Engine", "build_engine", "open_store", "CycleResult", "Source", "SOURCES"]

if TYPE_CHECKING:
    from zsc.sync.context import CycleResult
    from zsc.sync.engine import SOURCES, Engine, Source, build_engine, open_store


def __getattr__(name: str) -> Any:
    """The engine is loaded on first use, so that a command which only needs a small
    part of the package (`zsc status` reads channel intervals) starts fast."""
    if name == "CycleResult":
        from zsc.sync.context import CycleResult

        return CycleResult
    if name in __all__:
        from zsc.sync import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'zsc.sync' has no attribute {name!r}")
