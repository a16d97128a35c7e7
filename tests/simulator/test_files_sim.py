"""The simulators' files: Slack file downloads (bot token, files:read), the external
upload flow (files:write) and files.info; Zendesk uploads, attachments on comments,
authenticated downloads and redaction."""

import requests

from zsc.simulator.slack import DEFAULT_SCOPES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100


def slack_call(sim, method, token="xoxb-sim-token", **data):
    return requests.post(f"{sim.url}/api/{method}", data=data, headers={"Authorization": f"Bearer {token}"}).json()


def test_slack_files_download_only_with_the_bot_token_and_files_read(slack_sim):
    slack_sim.add_channel("C1", "support")
    slack_sim.add_user("UANN", "ann")
    ts = slack_sim.post_file("C1", "UANN", "look", "shot.png", PNG)
    [f] = slack_sim.messages("C1")[0]["files"]
    assert f["size"] == len(PNG) and f["mimetype"] == "image/png" and f["name"] == "shot.png" and ts
    url = f["url_private_download"]
    good = requests.get(url, headers={"Authorization": "Bearer xoxb-sim-token"})
    assert good.content == PNG and good.headers["Content-Type"] == "image/png"
    # Without the token, with a wrong one or without files:read: Slack's sign-in page, with 200.
    slack_sim.add_token("xoxb-noscope", [s for s in DEFAULT_SCOPES if s != "files:read"])
    for headers in ({}, {"Authorization": "Bearer xoxb-wrong"}, {"Authorization": "Bearer xoxb-noscope"}):
        page = requests.get(url, headers=headers)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert b"<html" in page.content


def test_slack_external_upload_puts_the_file_in_the_thread(slack_sim):
    slack_sim.add_channel("C1", "support")
    slack_sim.add_user("UANN", "ann")
    ts = slack_sim.post("C1", "UANN", "help")
    start = slack_call(slack_sim, "files.getUploadURLExternal", filename="fix.png", length=len(PNG))
    assert start["ok"] and start["file_id"].startswith("F")
    assert requests.post(start["upload_url"], data=PNG).status_code == 200
    assert slack_sim.thread("C1", ts) == []  # nothing shows before completing
    done = slack_call(slack_sim, "files.completeUploadExternal", channel_id="C1", thread_ts=ts,
                      files=f'[{{"id": "{start["file_id"]}", "title": "fix.png"}}]')
    assert done["ok"] and done["files"][0]["id"] == start["file_id"]
    [message] = slack_sim.thread("C1", ts)
    assert message["user"] == slack_sim.bot_user_id and message["files"][0]["id"] == start["file_id"]
    assert slack_sim.file_content(start["file_id"]) == PNG
    info = slack_call(slack_sim, "files.info", file=start["file_id"])
    assert info["ok"] and info["file"]["shares"]["public"]["C1"][0]["thread_ts"] == ts
    assert slack_call(slack_sim, "files.info", file="FNOPE")["error"] == "file_not_found"


def test_slack_upload_needs_files_write(slack_sim):
    slack_sim.add_token("xoxb-ro", [s for s in DEFAULT_SCOPES if s != "files:write"])
    answer = slack_call(slack_sim, "files.getUploadURLExternal", token="xoxb-ro", filename="a.png", length=3)
    assert answer == {"ok": False, "error": "missing_scope", "needed": "files:write",
                      "provided": ",".join(sorted(s for s in DEFAULT_SCOPES if s != "files:write"))}


def test_slack_edit_stamps_edited(slack_sim):
    slack_sim.add_channel("C1", "support")
    slack_sim.add_user("UANN", "ann")
    ts = slack_sim.post("C1", "UANN", "typo")
    slack_sim.edit("C1", ts, "fixed")
    first = slack_sim.messages("C1")[0]["edited"]
    slack_sim.edit("C1", ts, "fixed again")
    second = slack_sim.messages("C1")[0]["edited"]
    assert first["user"] == second["user"] == "UANN" and float(second["ts"]) > float(first["ts"]) > float(ts)


def test_zendesk_uploads_attach_to_comments_and_download_with_auth(zendesk_sim):
    zd = zendesk_sim
    agent = zd.add_agent("Agent", "agent@example.com")
    zd.add_api_token("agent@example.com", "tok")
    auth = ("agent@example.com/token", "tok")
    up = requests.post(f"{zd.url}/api/v2/uploads.json", params={"filename": "a.png"}, data=PNG, auth=auth,
                       headers={"Content-Type": "image/png"})
    assert up.status_code == 201
    token = up.json()["upload"]["token"]
    created = requests.post(f"{zd.url}/api/v2/tickets.json", auth=auth, json={"ticket": {
        "subject": "s", "comment": {"body": "see file", "uploads": [token]}}}).json()
    ticket_id = created["ticket"]["id"]
    [comment] = zd.comments(ticket_id)
    [att] = comment["attachments"]
    assert att["file_name"] == "a.png" and att["size"] == len(PNG) and att["content_type"] == "image/png"
    # Unauthenticated: redirected to the sign-in page; authenticated: to the file's signed address.
    page = requests.get(att["content_url"])
    assert page.history[0].status_code == 302 and page.headers["Content-Type"].startswith("text/html")
    got = requests.get(att["content_url"], auth=auth)
    assert got.history[0].status_code == 302 and "/attachments/signed/" in got.url
    assert got.content == PNG and got.headers["Content-Type"] == "image/png"
    # a token attaches once
    again = requests.put(f"{zd.url}/api/v2/tickets/{ticket_id}.json", auth=auth,
                         json={"ticket": {"comment": {"body": "x", "uploads": [token]}}})
    assert again.status_code == 422
    note = zd.internal_note(ticket_id, agent, "inside", attachments=[("n.txt", b"n", "text/plain")])
    zd.redact_comment(ticket_id, note, "inside")
    zd.redact_attachment(ticket_id, note, zd.comments(ticket_id)[-1]["attachments"][0]["id"])
    redacted = zd.comments(ticket_id)[-1]
    assert redacted["id"] == note and redacted["body"] == "▇▇▇▇▇▇"
    assert redacted["attachments"][0]["file_name"] == "redacted.txt" and redacted["attachments"][0]["size"] == 0


def test_every_web_api_answer_names_the_tokens_scopes(slack_sim):
    """Slack's x-oauth-scopes header: on success and on errors, for a token it accepted."""
    slack_sim.add_token("xoxb-ro", ["chat:write", "users:read"])

    def scopes(method, token, **data):
        answer = requests.post(f"{slack_sim.url}/api/{method}", data=data, headers={"Authorization": f"Bearer {token}"})
        return answer.headers.get("x-oauth-scopes")

    assert scopes("auth.test", "xoxb-ro") == "chat:write,users:read"
    assert scopes("files.getUploadURLExternal", "xoxb-ro", filename="a.png", length=3) == "chat:write,users:read"
    assert set(scopes("auth.test", "xoxb-sim-token").split(",")) == set(DEFAULT_SCOPES)
    assert scopes("auth.test", "xoxb-unknown") is None  # a refused token is told nothing
