"""Zendesk's uploads and attachments, without HTTP: `POST /uploads.json` keeps the
bytes under a token (valid an hour), a comment naming the token in `comment.uploads`
turns it into an attachment, whose `content_url` serves the bytes to authenticated
callers (secure downloads). Redaction replaces an attachment with "redacted.txt"."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

from zsc.simulator.base import now

TOKEN_TTL = 3600  # seconds an upload token can be attached


@dataclass
class _Upload:
    token: str
    attachment: dict
    expires_at: float
    used: bool = False


@dataclass
class Files:
    base_url: str = "https://sim.zendesk.com"  # the HTTP facade points this at itself
    uploads: dict[str, _Upload] = field(default_factory=dict)
    content: dict[int, bytes] = field(default_factory=dict)  # attachment id -> bytes
    by_token: dict[str, int] = field(default_factory=dict)  # content token -> attachment id
    types: dict[int, str] = field(default_factory=dict)  # attachment id -> the Content-Type it is served with
    _ids: Any = field(default_factory=lambda: itertools.count(500000))

    def upload(self, filename: str, data: bytes, content_type: str | None = None) -> dict:
        """POST /uploads.json: `{token, attachment}` (the attachment not on any comment yet)."""
        attachment_id = next(self._ids)
        content_token = secrets.token_hex(8)
        attachment = {"id": attachment_id, "file_name": filename, "content_type": content_type or "application/binary",
                      "size": len(data), "inline": False,
                      "content_url": f"{self.base_url}/attachments/token/{content_token}/?name={filename}",
                      "mapped_content_url": f"{self.base_url}/attachments/token/{content_token}/?name={filename}",
                      "thumbnails": []}
        self.content[attachment_id] = data
        self.types[attachment_id] = attachment["content_type"]
        self.by_token[content_token] = attachment_id
        token = secrets.token_hex(12)
        self.uploads[token] = _Upload(token, attachment, now() + TOKEN_TTL)
        return {"token": token, "attachment": dict(attachment), "attachments": [dict(attachment)]}

    def attach(self, tokens: Any) -> list[dict]:
        """The attachments for a comment's `uploads`; an unknown, used or expired token is
        refused (ValueError naming it)."""
        if not tokens:
            return []
        if not isinstance(tokens, list):
            raise ValueError("uploads must be a list of tokens")
        found = []
        for token in tokens:
            upload = self.uploads.get(str(token))
            if upload is None or upload.used or upload.expires_at <= now():
                raise ValueError(f"upload token {token} is unknown or expired")
            found.append(upload)
        for upload in found:
            upload.used = True
        return [dict(u.attachment) for u in found]

    def add(self, filename: str, data: bytes, content_type: str) -> dict:
        """An attachment made directly (an agent's upload in the web UI)."""
        token = self.upload(filename, data, content_type)["token"]
        return self.attach([token])[0]

    def download(self, content_token: str) -> bytes | None:
        attachment_id = self.by_token.get(content_token)
        return None if attachment_id is None else self.content.get(attachment_id)

    def content_type(self, content_token: str) -> str:
        return self.types.get(self.by_token.get(content_token, -1), "application/octet-stream")

    def redact(self, attachment: dict) -> None:
        """Zendesk's attachment redaction: the file becomes an empty redacted.txt (same id)."""
        self.content[attachment["id"]] = b""
        self.types[attachment["id"]] = "text/plain"
        attachment.update(file_name="redacted.txt", content_type="text/plain", size=0, thumbnails=[])
