"""Files on replies through the pages (desk reply and note, portal reply), and how files
are served: pictures and PDFs inline only when their bytes say so, never SVG or HTML,
`nosniff` always, `sandbox` on what is inline; limits said next to every file input."""

from __future__ import annotations

import re

import pytest

from tests.helpers import png_image
from tests.ui.conftest import Client
from tests.ui.portal.conftest import AGENT, People

PNG = png_image()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def desk_reply(client: Client, key: str, body: str, files: list, **data: str):
    return client.post(
        f"/desk/tickets/{key}/comments",
        data={"csrf_token": client.csrf, "body": body, **data},
        files=[("files", f) for f in files],
    )


def file_ids(html: str, base: str) -> list[str]:
    return list(dict.fromkeys(re.findall(rf'{base}/attachments/([\w-]+)"', html)))


def test_an_agent_reply_with_a_picture_shows_it_inline_to_the_requester(people: People) -> None:
    key = people.incident()
    agent = people.client(AGENT)
    sent = desk_reply(agent, key, "Is this what you see?", [("screen.png", PNG, "image/png")])
    assert sent.status_code == 303, sent.text
    desk = agent.get(f"/desk/tickets/{key}").text
    [file_id] = file_ids(desk, "/desk")
    assert f'<img src="/desk/attachments/{file_id}" alt="screen.png"' in desk
    portal = people.client().get(f"/portal/tickets/{key}").text
    assert f'<img src="/portal/attachments/{file_id}" alt="screen.png"' in portal
    shown = people.client().get(f"/portal/attachments/{file_id}")
    assert shown.status_code == 200 and shown.content == PNG
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-security-policy"] == "sandbox"
    forced = people.client().get(f"/portal/attachments/{file_id}?download=1")
    assert forced.headers["content-disposition"].startswith("attachment;")
    assert forced.headers["content-type"] == "application/octet-stream"


def test_a_pdf_opens_inline_in_a_new_tab(people: People) -> None:
    key = people.incident()
    agent = people.client(AGENT)
    desk_reply(agent, key, "The invoice.", [("invoice.pdf", PDF, "application/pdf")])
    portal = people.client().get(f"/portal/tickets/{key}").text
    [file_id] = file_ids(portal, "/portal")
    assert (
        f'href="/portal/attachments/{file_id}" target="_blank" rel="noopener">invoice.pdf' in portal
    )
    shown = people.client().get(f"/portal/attachments/{file_id}")
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("page.png", HTML, "image/png"),  # an HTML page named and typed as a picture
        ("logo.png", SVG, "image/png"),  # an SVG under a picture's name and type
        ("fake.pdf", HTML, "application/pdf"),
        ("photo.jpg", PNG, "image/jpeg"),  # bytes of another type than the stored one
    ],
)
def test_a_file_whose_bytes_are_not_its_type_is_never_inline(
    people: People, name: str, content: bytes, claimed: str
) -> None:
    key = people.incident()
    agent = people.client(AGENT)
    assert desk_reply(agent, key, "Look.", [(name, content, claimed)]).status_code == 303
    [file_id] = file_ids(agent.get(f"/desk/tickets/{key}").text, "/desk")
    for client, base in ((agent, "/desk"), (people.client(), "/portal")):
        served = client.get(f"{base}/attachments/{file_id}")
        assert served.status_code == 200 and served.content == content
        assert served.headers["content-disposition"].startswith("attachment;")
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["x-content-type-options"] == "nosniff"


def test_an_svg_field_file_is_downloaded_not_shown(people: People) -> None:
    """A field's file too: an SVG (even stored as image/svg+xml) is never inline."""
    key = people.incident()
    client = people.client()
    response = client.post(
        f"/portal/tickets/{key}/files",
        data={"csrf_token": client.csrf, "field": "screenshots"},
        files=[("files", ("chart.svg", SVG, "image/svg+xml"))],
    )
    if response.status_code == 422:  # the field refuses SVG: nothing to serve at all
        assert "chart.svg" in response.text
        return
    [attachment] = people.web.service.list_attachments(people.requester, key)
    served = client.get(f"/portal/attachments/{attachment.id}")
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["content-type"] == "application/octet-stream"


def test_a_requester_never_sees_the_file_of_an_internal_note(people: People) -> None:
    key = people.incident()
    agent = people.client(AGENT)
    sent = desk_reply(
        agent, key, "Server log, for us.", [("server.log", b"secret", "text/plain")],
        visibility="internal",
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    [file_id] = file_ids(agent.get(f"/desk/tickets/{key}").text, "/desk")
    requester = people.client()
    assert file_id not in requester.get(f"/portal/tickets/{key}").text
    assert requester.get(f"/portal/attachments/{file_id}").status_code == 404


def test_a_requester_reply_with_files(people: People) -> None:
    key = people.incident()
    client = people.client()
    response = client.post(
        f"/portal/tickets/{key}/reply",
        data={"csrf_token": client.csrf, "body": "Here it is."},
        files=[
            ("files", ("error.png", PNG, "image/png")),
            ("files", ("note.txt", b"hi", "text/plain")),
        ],
    )
    assert response.status_code == 303, response.text
    [comment] = people.web.service.list_comments(people.agent, key)
    page = people.client(AGENT).get(f"/desk/tickets/{key}").text
    assert "error.png" in page and "note.txt" in page
    events = people.web.service.list_events(people.agent, key)
    assert events[-1].after["files"] == ["error.png", "note.txt"] and comment.body == "Here it is."


def test_a_refused_file_says_why_in_both_languages_and_keeps_the_others(people: People) -> None:
    key = people.incident()
    client = people.client()
    response = client.post(
        f"/portal/tickets/{key}/reply",
        data={"csrf_token": client.csrf, "body": "Two files."},
        files=[
            ("files", ("ok.png", PNG, "image/png")),
            ("files", ("evil.html", HTML, "text/html")),
        ],
    )
    assert response.status_code == 422
    assert "&#39;evil.html&#39; must be one of these file types" in response.text
    assert 'name="uploaded_name" value="ok.png"' in response.text  # kept for the next send
    assert "Two files." in response.text
    assert people.web.service.list_comments(people.agent, key) == []
    # Sending again (the kept file rides along) posts the reply with it.
    kept = re.search(r'name="uploaded" value="([\w-]+)"', response.text)
    assert kept is not None
    again = client.send_form(
        f"/portal/tickets/{key}/reply",
        {"body": "Two files.", "uploaded": kept.group(1), "uploaded_name": "ok.png"},
    )
    assert again.status_code == 303
    [comment] = people.web.service.list_comments(people.agent, key)
    assert [f.filename for f in comment.files] == ["ok.png"]
    chinese = people.client()
    assert chinese.send_form("/language", {"language": "zh-CN"}).status_code == 303
    refused = chinese.post(
        f"/portal/tickets/{key}/reply",
        data={"csrf_token": chinese.csrf, "body": "x"},
        files=[("files", ("evil.html", HTML, "text/html"))],
    )
    assert refused.status_code == 422 and "“evil.html”的文件类型不可接受" in refused.text


def test_someone_elses_upload_id_is_refused_not_stolen(people: People) -> None:
    key = people.incident()
    agent = people.client(AGENT)
    mine = people.web.service.upload_reply_file(
        people.other, filename="theirs.png", content_type="image/png", content=PNG
    )
    response = agent.send_form(
        f"/desk/tickets/{key}/comments",
        {"body": "Taking it.", "uploaded": mine, "uploaded_name": "theirs.png"},
    )
    assert response.status_code == 422 and "no upload" in response.text
    assert people.web.service.list_comments(people.agent, key) == []


def test_broken_multipart_is_a_clear_error_not_a_500(people: People) -> None:
    key = people.incident()
    client = people.client()
    for path in (f"/portal/tickets/{key}/reply", f"/desk/tickets/{key}/comments"):
        response = client.post(
            path,
            content=b'--xyz\r\nContent-Disposition: form-data; name="body"\r\n\r\nhi',
            headers={
                "Content-Type": "multipart/form-data; boundary=xyz",
                "X-CSRF-Token": client.csrf,
            },
        )
        assert 400 <= response.status_code < 500, response.text


def test_limits_are_said_next_to_every_file_input(people: People) -> None:
    key = people.incident()
    portal = people.client().get(f"/portal/tickets/{key}").text
    assert "Accepted: .png, .jpg" in portal and "up to 25 MB each" in portal  # the reply
    assert 'id="files-limits"' in portal and "At most" in portal  # the field's form
    desk = people.client(AGENT).get(f"/desk/tickets/{key}").text
    assert 'id="reply-files-help"' in desk and "up to 25 MB each" in desk
    new = people.client(AGENT).get("/desk/new/it_incident").text
    assert re.search(r'id="new-screenshots-limits">\s*At most \d+ MB per file', new)
    zh = people.client()
    zh.send_form("/language", {"language": "zh-CN"})
    zh_page = zh.get(f"/portal/tickets/{key}").text
    assert "可接受的类型：.png" in zh_page and "每个文件不超过 25 MB" in zh_page


def test_a_reply_held_by_the_collision_warning_keeps_its_files(people: People) -> None:
    """The ticket changed since the agent opened it: the reply is held with what
    changed shown, its file already stored and carried in the form; sending again posts
    the reply with that file, without choosing it again."""
    key = people.incident()
    agent = people.client(AGENT)
    page = agent.get(f"/desk/tickets/{key}").text
    seen = re.search(r'name="seen" value="(\d+)"', page)
    assert seen is not None
    people.web.service.add_comment(people.requester, key, "Any news?")
    held = desk_reply(
        agent, key, "Here is the fix.", [("fix.png", PNG, "image/png")], seen=seen.group(1)
    )
    assert held.status_code == 409 and "Any news?" in held.text
    kept = re.search(r'name="uploaded" value="([\w-]+)"', held.text)
    assert kept is not None and 'name="uploaded_name" value="fix.png"' in held.text
    sent = agent.send_form(
        f"/desk/tickets/{key}/comments",
        {"body": "Here is the fix.", "seen": seen.group(1), "confirmed": "1",
         "uploaded": kept.group(1), "uploaded_name": "fix.png"},
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    comments = people.web.service.list_comments(people.agent, key)
    assert [f.filename for f in comments[-1].files] == ["fix.png"]


def test_a_reply_carries_a_picture_of_several_megabytes(people: People) -> None:
    """A reply with files is an upload (the upload body limit, 30 MiB), not a 1 MiB
    form post; a body over that is a clear 413, nothing half-written."""
    key = people.incident()
    agent = people.client(AGENT)
    big = PNG + b"\x00" * (3 * 1024 * 1024)
    sent = desk_reply(agent, key, "The full-size capture.", [("capture.png", big, "image/png")])
    assert sent.status_code == 303, sent.text[:300]
    client = people.client()
    reply = client.post(
        f"/portal/tickets/{key}/reply",
        data={"csrf_token": client.csrf, "body": "Mine too."},
        files=[("files", ("mine.png", big, "image/png"))],
    )
    assert reply.status_code == 303, reply.text[:300]
    too_big = desk_reply(
        agent, key, "Too much.", [(f"part{i}.png", big * 3, "image/png") for i in range(4)]
    )
    assert too_big.status_code == 413
    bodies = [c.body for c in people.web.service.list_comments(people.agent, key)]
    assert bodies == ["The full-size capture.", "Mine too."]
