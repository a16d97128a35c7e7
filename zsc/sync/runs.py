"""One-shot runs of the engine for the command line: each builds an Engine, drives
it once and closes it. A run that writes takes the store's lock first, so it never
races a running daemon (or timer) over the same items."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime
from typing import TYPE_CHECKING, Callable

from zsc.sync.context import CycleResult
from zsc.sync.engine import build_engine

if TYPE_CHECKING:
    from zsc.config import Config
    from zsc.store.zenslackchat import OldHours
    from zsc.sync.check_missing import Outcome, Progress
    from zsc.sync.import_zenslackchat import ImportResult


def _exclusive(config: "Config", action: str):
    from zsc.locks import exclusive

    return exclusive(config.database.url, action)


def sync_once(config: "Config", since: datetime | None = None, dry_run: bool = False) -> CycleResult:
    """One whole cycle (`zsc sync-once`)."""
    dry = dry_run or config.sync.dry_run
    with nullcontext() if dry else _exclusive(config, "sync-once"):
        engine = build_engine(config, dry_run=dry)
        try:
            return engine.cycle(since)
        finally:
            engine.close()


def check_missing(config: "Config", days: int, fix: bool = False, progress: "Progress | None" = None) -> "Outcome":
    """`zsc check-missing`: scan (writing nothing, not even a store file), or with
    `fix` repair through the sync's own paths under the store's lock."""
    with _exclusive(config, "check-missing --fix") if fix else nullcontext():
        engine = build_engine(config, dry_run=False, create_store=fix)
        try:
            return engine.check_missing(days, fix, progress)
        finally:
            engine.close()


def import_zenslackchat(config: "Config", url: str, dry_run: bool = False,
                       progress: "Callable[[int, int], None] | None" = None) -> "tuple[ImportResult, OldHours | None]":
    """`zsc import zenslackchat`: read the old bot's database (read-only; never a secret
    column), then import its threads under the store's lock. A dry run writes nothing,
    not even a store file. Returns the outcome and the old out-of-hours settings."""
    from zsc.store.zenslackchat import open_old

    old = open_old(url)  # a wrong URL or database is told before anything else
    try:
        rows, hours = old.conversations(), old.out_of_hours()
    finally:
        old.close()
    with nullcontext() if dry_run else _exclusive(config, "import zenslackchat"):
        engine = build_engine(config, dry_run=dry_run, create_store=not dry_run)
        try:
            return engine.import_zenslackchat(rows, progress), hours
        finally:
            engine.close()


def report_data(config: "Config", day: date, at: datetime) -> dict:
    """`zsc report --json`: the report's figures; never posts, writes nothing."""
    engine = build_engine(config, dry_run=True, create_store=False)
    try:
        return engine.report_data(day, at)
    finally:
        engine.close()


def report(config: "Config", day: date, at: datetime, dry_run: bool = False) -> tuple[str | None, "object | None"]:
    """`zsc report`: (the text, None) under a dry run, else (None, Posted)."""
    engine = build_engine(config, dry_run=dry_run or None)  # [sync] dry_run = true counts too
    try:
        if engine.dry_run:
            return engine.report_text(day, at), None
        return None, engine.post_report(day, at=at)
    finally:
        engine.close()
