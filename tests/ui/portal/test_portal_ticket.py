"""The requester's ticket page: public conversation only, no internal field or note,
only the transitions a requester may take, reply, files, and the survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gongdan.channels import channels_for
from gongdan.engine.outbox.relay import deliver, relay_once
from tests.ui.portal.conftest import People

INTERNAL_NOTE = "Customer is a VIP, handle with care"


def deliver_outbox(people: People) -> None:
    db, later = people.web.db, datetime.now(UTC) + timedelta(minutes=5)
    relay_once(db, lambda i: deliver(db, i, later, channels=channels_for()), later)


def test_public_replies_but_no_internal_note(people: People) -> None:
    key = people.incident()
    service = people.web.service
    service.add_comment(people.agent, key, "Could you send a **screenshot**?")
    service.add_comment(people.agent, key, INTERNAL_NOTE, public=False)
    page = people.client().get(f"/portal/tickets/{key}")
    assert page.status_code == 200
    assert "<strong>screenshot</strong>" in page.text  # Markdown rendered
    assert INTERNAL_NOTE not in page.text and "internal" not in page.text.lower()
    # Not even a staff member opening the portal sees internal notes there.
    staff_page = people.client("li.wei@example.com").get(f"/portal/tickets/{key}").text
    assert INTERNAL_NOTE not in staff_page


def test_internal_fields_never_show(people: People) -> None:
    service = people.web.service
    key = service.create_ticket(
        people.requester,
        "equipment_maintenance",
        title="Feeder jams",
        fields={"device_id": "SMT-0042", "production_line": "smt_1"},
    ).ticket.key
    admin = people.web.user("admin@example.com", "admin")
    service.update_ticket(admin, key, {"work_performed": "Replaced the secret board"})
    page = people.client().get(f"/portal/tickets/{key}").text
    assert "SMT-0042" in page
    assert "Replaced the secret board" not in page and "Work performed" not in page


def test_another_requesters_ticket_is_not_found(people: People) -> None:
    key = people.incident(people.other)
    client = people.client()
    assert client.get(f"/portal/tickets/{key}").status_code == 404
    assert client.send_form(f"/portal/tickets/{key}/reply", {"body": "hi"}).status_code == 404
    assert client.get("/portal/tickets/NOPE-1").status_code == 404
    assert client.get("/portal/tickets/" + "X" * 40).status_code == 404


def test_only_requester_transitions_are_offered(people: People) -> None:
    key = people.incident()
    page = people.client().get(f"/portal/tickets/{key}").text
    assert f"/portal/tickets/{key}/transitions/withdraw" in page
    for staff in ("start", "resolve", "ask_requester"):
        assert f"/transitions/{staff}" not in page
    # Posting a staff transition by hand is refused and changes nothing.
    response = people.client().send_form(f"/portal/tickets/{key}/transitions/start")
    assert response.status_code == 404
    assert people.web.service.get_ticket(people.agent, key).state == "new"


def test_reply(people: People) -> None:
    key = people.incident()
    client = people.client()
    response = client.send_form(f"/portal/tickets/{key}/reply", {"body": "It happens again"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/tickets/{key}#conversation"
    comments = people.web.service.list_comments(people.agent, key)
    assert [(c.body, c.public, c.author) for c in comments] == [
        ("It happens again", True, "zhang.san@example.com")
    ]
    empty = client.send_form(f"/portal/tickets/{key}/reply", {"body": "   "})
    assert empty.status_code == 422 and 'id="reply-error">is required' in empty.text


def test_reopen_needs_a_comment_then_reopens(people: People) -> None:
    key = people.incident()
    people.resolve(key, "Reinstalled Outlook.")
    client = people.client()
    page = client.get(f"/portal/tickets/{key}").text
    assert "Reinstalled Outlook." in page  # the public resolution comment
    assert "/transitions/reopen" in page and "/transitions/close" in page
    refused = client.send_form(f"/portal/tickets/{key}/transitions/reopen", {"comment": ""})
    assert refused.status_code == 422
    assert "transition-reopen-comment-error" in refused.text
    done = client.send_form(
        f"/portal/tickets/{key}/transitions/reopen", {"comment": "Still crashing"}
    )
    assert done.status_code == 303
    assert people.web.service.get_ticket(people.agent, key).state == "in_progress"


def test_a_stale_page_cannot_overwrite_a_newer_change(people: People) -> None:
    key = people.incident()
    people.resolve(key)
    stale = people.web.service.get_ticket(people.requester, key).version
    people.web.service.add_comment(people.agent, key, "One more thing")  # no version bump
    people.web.service.take_transition(people.agent, key, "reopen", comment="Reopening")
    response = people.client().send_form(
        f"/portal/tickets/{key}/transitions/withdraw", {"version": str(stale)}
    )
    assert response.status_code in (404, 409)  # no longer offered, or a conflict


def test_confirm_and_answer_the_survey_once(people: People) -> None:
    key = people.incident()
    people.resolve(key)
    client = people.client()
    assert client.send_form(f"/portal/tickets/{key}/transitions/close").status_code == 303
    deliver_outbox(people)  # the survey: csat action's delivery creates the survey
    page = client.get(f"/portal/tickets/{key}").text
    assert 'id="survey"' in page and 'name="rating"' in page
    bad = client.send_form(f"/portal/tickets/{key}/survey", {"rating": "9"})
    assert bad.status_code == 422 and "choose a rating from 1 to 5" in bad.text
    good = client.send_form(f"/portal/tickets/{key}/survey", {"rating": "4", "comment": "Fast"})
    assert good.status_code == 303
    page = client.get(f"/portal/tickets/{key}").text
    assert "Thank you for your feedback: 4 out of 5." in page and 'name="rating"' not in page
    again = client.send_form(f"/portal/tickets/{key}/survey", {"rating": "1"})
    assert again.status_code == 409
    [survey] = people.web.service.list_surveys(people.agent, key)
    assert (survey.rating, survey.comment) == (4, "Fast")


def test_add_and_download_files(people: People) -> None:
    key = people.incident()
    client = people.client()
    response = client.post(
        f"/portal/tickets/{key}/files",
        data={"csrf_token": client.csrf, "field": "screenshots"},
        files=[("files", ("crash.log", b"Faulting module: outlook.exe", "text/plain"))],
    )
    assert response.status_code == 303, response.text
    page = client.get(f"/portal/tickets/{key}").text
    [attachment] = people.web.service.list_attachments(people.requester, key)
    assert f'href="/portal/attachments/{attachment.id}"' in page and "crash.log" in page
    download = client.get(f"/portal/attachments/{attachment.id}")
    assert download.status_code == 200 and download.content == b"Faulting module: outlook.exe"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert (
        people.client("wang.wu@example.com").get(f"/portal/attachments/{attachment.id}").status_code
        == 404
    )
    refused = client.post(
        f"/portal/tickets/{key}/files",
        data={"csrf_token": client.csrf, "field": "screenshots"},
        files=[("files", ("tool.exe", b"MZ", "application/x-msdownload"))],
    )
    assert refused.status_code == 422 and 'id="files-error"' in refused.text
    nothing = client.send_form(f"/portal/tickets/{key}/files", {"field": "screenshots"})
    assert nothing.status_code == 422


def test_posts_need_the_csrf_token(people: People) -> None:
    key = people.incident()
    client = people.client()
    for path, data in (
        (f"/portal/tickets/{key}/reply", {"body": "hi"}),
        (f"/portal/tickets/{key}/transitions/withdraw", {}),
        (f"/portal/tickets/{key}/survey", {"rating": "5"}),
    ):
        assert client.post(path, data=data).status_code == 403
    assert people.web.service.list_comments(people.agent, key) == []
    assert people.web.service.get_ticket(people.agent, key).state == "new"


def test_ticket_page_in_chinese(people: People) -> None:
    key = people.incident()
    client = people.client()
    client.send_form("/language", {"language": "zh-CN"})
    page = client.get(f"/portal/tickets/{key}").text
    assert "沟通记录" in page and "撤回" in page and "新建" in page
