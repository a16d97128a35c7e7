"""The decisions: what to mirror, in which order, and when a cursor may advance.

Its one public entry is `Engine` (built by `build_engine`): start positions, one
source's poll, a whole cycle, the daily report and check-missing. Adapters do the
talking (typed by the Protocols of zsc.adapters), the store remembers; features are
called explicitly from the paths that need them, never registered by import.
Nothing here imports click, the daemon or the CLI."""

from zsc.sync.context import CycleResult
from zsc.sync.engine import SOURCES, Engine, Source, build_engine, open_store

__all__ = ["Engine", "build_engine", "open_store", "CycleResult", "Source", "SOURCES"]
