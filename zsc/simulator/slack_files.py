"""Slack's files, without HTTP (a part of SlackWorkspace): file objects on messages
with real bytes behind their download URLs, the external upload flow
(files.getUploadURLExternal, the upload URL, files.completeUploadExternal) and
files.info. The HTTP facade (SlackSim) checks tokens and scopes."""

from __future__ import annotations

import copy
from typing import Any


class SlackFiles:
    """Mixed into SlackWorkspace, whose state (file_bytes, files, pending_uploads,
    file_base_url) and helpers (conversation, _add) it uses."""

    def _file(self, f: dict) -> dict:
        """A file object as Slack shows it on a message. `content` (bytes, not shown) is
        what its download URLs serve; size, mimetype and URLs are filled in unless given."""
        self._file_seq += 1
        f = dict(f)
        content = f.pop("content", None)
        file_id = f.get("id") or f"F{self._file_seq:08d}"
        name = str(f.get("name") or "file")
        obj: dict[str, Any] = {"id": file_id, "name": name, "title": f.get("title") or name,
                               "mimetype": "application/octet-stream", "is_external": False}
        if content is not None:
            self.file_bytes[file_id] = bytes(content)
            obj["size"] = len(content)
            base = f"{self.file_base_url}/files-pri/{self.team_id}-{file_id}"
            obj["url_private"] = f"{base}/{name}"
            obj["url_private_download"] = f"{base}/download/{name}"
            obj["permalink"] = f"{self.workspace_url}files/{self.bot_user_id}/{file_id}/{name}"
        obj.update(f)
        self.files[file_id] = obj
        if obj.get("file_access") == "check_file_info" and content is not None:
            # A Slack Connect file the bot may read: its message carries a stub, and
            # files.info the whole file. (Without bytes, files.info gives the stub too.)
            self.files[file_id] = {k: v for k, v in obj.items() if k != "file_access"}
            return {"id": file_id, "mode": "file_access", "file_access": "check_file_info"}
        return obj

    # ------------------------------------------------------------------ files (external upload flow)

    def file_content(self, file_id: str) -> bytes:
        if file_id not in self.file_bytes:
            raise _error("file_not_found")
        return self.file_bytes[file_id]

    def upload_url(self, filename: str, length: int) -> dict:
        """files.getUploadURLExternal: a file id and where to POST its bytes."""
        if not filename:
            raise _error("invalid_arguments")
        self._file_seq += 1
        file_id = f"F{self._file_seq:08d}"
        self.pending_uploads[file_id] = {"filename": filename, "length": length, "data": None}
        return {"upload_url": f"{self.file_base_url}/upload/v1/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, data: bytes) -> None:
        """The bytes POSTed to an upload URL."""
        pending = self.pending_uploads.get(file_id)
        if pending is None:
            raise _error("file_not_found")
        pending["data"] = data

    def complete_upload(self, files: list[dict], channel: str | None, thread_ts: str | None,
                        initial_comment: str | None = None) -> list[dict]:
        """files.completeUploadExternal: the uploaded files are shared by the bot, as one
        message (in the thread `thread_ts`) carrying `files`."""
        shared = []
        for entry in files:
            pending = self.pending_uploads.get(str(entry.get("id")))
            if pending is None or pending["data"] is None:
                raise _error("file_upload_not_completed" if pending else "file_not_found")
        for entry in files:
            file_id = str(entry["id"])
            pending = self.pending_uploads.pop(file_id)
            shared.append(self._file({"id": file_id, "name": pending["filename"],
                                      "title": entry.get("title") or pending["filename"], "content": pending["data"]}))
        if channel:
            ch = self.conversation(channel, member=True)
            msg: dict[str, Any] = {"type": "message", "subtype": "file_share", "user": self.bot_user_id,
                                   "text": initial_comment or "", "team": self.team_id, "files": shared,
                                   "upload": True, "display_as_bot": False}
            self._add(ch, msg, thread_ts)
            for f in shared:
                f["shares"] = {"public": {channel: [{"ts": msg["ts"], "thread_ts": msg.get("thread_ts")}]}}
        return [{"id": f["id"], "title": f["title"]} for f in shared]

    def file_info(self, file_id: str) -> dict:
        """files.info's `file`."""
        if file_id not in self.files:
            raise _error("file_not_found")
        return copy.deepcopy(self.files[file_id])


def _error(code: str) -> Exception:
    from zsc.simulator.slack_model import SlackError  # (slack_model imports this module)

    return SlackError(code)
