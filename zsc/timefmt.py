"""Times for people: how long ago, and a UTC stamp. One place, so `zsc status`, the
systemd STATUS line and the logs say durations the same way."""

from __future__ import annotations

from datetime import datetime


def duration(seconds: float) -> str:
    """The two largest units: "3m 12s", "2h 5m", "1d 3h", "0s"."""
    seconds = int(max(seconds, 0))
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0s"


def ago(now: datetime, then: datetime | None) -> str:
    """"3m 12s ago"; "never" for None; "just now" for a time ahead of `now`."""
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    return "just now" if seconds < 0 else f"{duration(seconds)} ago"


def stamp(moment: datetime | None) -> str:
    """Naive UTC as "2026-03-02 10:00:00Z"; "never" for None."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + "Z" if moment else "never"
