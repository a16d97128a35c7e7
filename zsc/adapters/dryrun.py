"""Stand-ins for the adapters under --dry-run (they implement the same Protocols):
reads go to the real API, writes are only described. The engine runs its store work
in a transaction that is rolled back."""

from __future__ import annotations

import itertools
from typing import Any

from loguru import logger


class _DryRun:
    def __init__(self, real: Any, result_lines: list[str]) -> None:
        self._real = real
        self._lines = result_lines
        self._ids = itertools.count(1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _would(self, line: str, detail: str = "") -> None:
        from zsc.logs import body

        self._lines.append(f"would {line}: {detail}" if detail else f"would {line}")
        logger.info("dry run: would {}{}", line, f": {body(detail)}" if detail else "")


class DryRunSlack(_DryRun):
    def post(self, channel: str, text: str, thread_ts: str | None = None, ref: str | None = None,
             username: str | None = None, icon_url: str | None = None) -> str:
        where = f"thread {thread_ts}" if thread_ts else "the channel"
        first = text.splitlines()[0][:100] if text else ""
        self._would(f"post in Slack {channel} {where}", first)
        return f"0.{next(self._ids):06d}"

    def download(self, file: Any, max_bytes: int) -> bytes:
        return b""  # nothing will be uploaded: no need to fetch it

    def upload_url(self, filename: str, length: int) -> tuple[str, str]:
        return "", f"FDRYRUN{next(self._ids)}"

    def send_upload(self, upload_url: str, data: bytes) -> None:
        pass

    def complete_upload(self, file_id: str, title: str, channel: str, thread_ts: str | None) -> None:
        self._would(f"upload the file {title} into Slack {channel} thread {thread_ts}")

    def react(self, channel: str, ts: str, name: str) -> None:
        self._would(f"react :{name}: in Slack {channel} to {ts}")

    def unreact(self, channel: str, ts: str, name: str) -> None:
        self._would(f"take back :{name}: in Slack {channel} from {ts}")


class DryRunZendesk(_DryRun):
    def create_ticket(self, *, subject: str, **kwargs: Any) -> tuple[int, int | None]:
        self._would("create a Zendesk ticket", subject)
        return -next(self._ids), None

    def add_comment(self, ticket_id: int, body: str, *, public: bool, author_id: int | None = None,
                    status: str | None = None, key: str | None = None, uploads: list[str] | None = None) -> int | None:
        kind = "public comment" if public else "internal note"
        files = f" with {len(uploads)} file(s)" if uploads else ""
        self._would(f"add a {kind}{files} to ticket #{ticket_id}" + (f" and set it {status}" if status else ""))
        return -next(self._ids)

    def upload(self, name: str, content_type: str, data: bytes) -> str:
        return f"dry-run-token-{next(self._ids)}"

    def download(self, url: str, max_bytes: int, content_type: str = "", size: int | None = None) -> bytes:
        return b""

    def set_status(self, ticket_id: int, status: str, key: str | None = None) -> None:
        self._would(f"set ticket #{ticket_id} {status}")

    def update_external_id(self, ticket_id: int, external_id: str) -> None:
        self._would(f"set ticket #{ticket_id} external_id {external_id}")

    def comments(self, ticket_id: int):
        return [] if ticket_id < 0 else self._real.comments(ticket_id)
