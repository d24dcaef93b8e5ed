"""Files on replies through the API: upload for a reply, name it in the comment, read
the comment with its files; a requester never reads an internal note's file."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.api.conftest import INCIDENT, Login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_comment_carries_its_files(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = requester.post("/api/v1/tickets", json=INCIDENT).json()["key"]
    upload = admin.post("/api/v1/uploads/reply", files={"file": ("截图.png", PNG, "image/png")})
    assert upload.status_code == 201, upload.text
    stored = upload.json()
    assert stored["field"] is None and stored["filename"] == "截图.png"
    assert requester.get(stored["url"]).status_code == 404  # the uploader's alone, until sent
    sent = admin.post(
        f"/api/v1/tickets/{key}/comments", json={"body": "Is it this?", "files": [stored["id"]]}
    )
    assert sent.status_code == 201, sent.text
    assert [f["id"] for f in sent.json()["files"]] == [stored["id"]]
    [comment] = requester.get(f"/api/v1/tickets/{key}/comments").json()
    assert comment["files"][0]["filename"] == "截图.png"
    download = requester.get(comment["files"][0]["url"])
    assert download.content == PNG and download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")


def test_files_alone_make_a_reply_and_nothing_makes_none(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = requester.post("/api/v1/tickets", json=INCIDENT).json()["key"]
    stored = requester.post(
        "/api/v1/uploads/reply", files={"file": ("log.txt", b"boom", "text/plain")}
    ).json()
    only_files = requester.post(f"/api/v1/tickets/{key}/comments", json={"files": [stored["id"]]})
    assert only_files.status_code == 201 and only_files.json()["body"] == ""
    empty = requester.post(f"/api/v1/tickets/{key}/comments", json={"body": ""})
    assert empty.status_code == 422 and empty.json()["fields"] == {"body": "is required"}


def test_an_internal_notes_file_stays_with_staff(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = requester.post("/api/v1/tickets", json=INCIDENT).json()["key"]
    stored = admin.post(
        "/api/v1/uploads/reply", files={"file": ("dump.txt", b"secret", "text/plain")}
    ).json()
    note = admin.post(
        f"/api/v1/tickets/{key}/comments",
        json={"body": "For us.", "public": False, "files": [stored["id"]]},
    )
    assert note.status_code == 201
    assert requester.get(stored["url"]).status_code == 404
    assert requester.get(f"/api/v1/tickets/{key}/comments").json() == []
    assert admin.get(stored["url"]).content == b"secret"


def test_refused_reply_files_are_clear_errors(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = requester.post("/api/v1/tickets", json=INCIDENT).json()["key"]
    page = admin.post("/api/v1/uploads/reply", files={"file": ("x.html", b"<p>", "text/html")})
    assert page.status_code == 422 and "must be one of these file types" in page.text
    big = admin.post(
        "/api/v1/uploads/reply",
        files={"file": ("big.png", b"0" * (25 * 1024 * 1024 + 1), "image/png")},
    )
    assert big.status_code == 413
    stolen = requester.post(
        "/api/v1/uploads/reply", files={"file": ("a.png", PNG, "image/png")}
    ).json()
    taken = admin.post(
        f"/api/v1/tickets/{key}/comments", json={"body": "x", "files": [stolen["id"]]}
    )
    assert taken.status_code == 422 and "files" in taken.json()["fields"]
    html = admin.post("/api/v1/uploads/reply", files={"file": ("a.png", b"<html>", "image/png")})
    assert html.status_code == 201  # a picture's name: stored, but never served as a picture
    assert admin.get(html.json()["url"]).headers["content-type"] == "application/octet-stream"
