"""Email in: a real SMTP client (smtplib) talks to our listener on loopback, and what it
sends becomes tickets and comments, on SQLite and PostgreSQL."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from gongdan.channels.email.smtp_server import MailListener
from gongdan.engine.accounts.users import actor_for
from gongdan.engine.outbox.mail_log import MailLog, list_mail
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.channels.email.conftest import OUR_ADDRESS, SUPPORT
from tests.factories import actor, make_user


def mail(
    sender: str = "zhang.san@customer.cn",
    subject: str = "Printer on floor 3 is jammed",
    body: str = "It shows error E-42 since this morning.",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Zhang San <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(port: int, message: EmailMessage, to: str = SUPPORT) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.send_message(message, to_addrs=[to])


def only_ticket(service: TicketService, email: str) -> str:
    with service.db.reading() as session:
        from sqlalchemy import select

        from gongdan.engine.store.models import User

        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        who = actor_for(session, user)
    page = service.list_tickets(who)
    assert len(page.items) == 1
    return page.items[0].key


def test_a_new_mail_creates_a_ticket_with_its_attachments(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    message = mail(body="打印机卡纸了，显示错误 E-42。", Content_Language="zh-CN")
    message.add_attachment(
        b"\x89PNG fake screenshot", maintype="image", subtype="png", filename="jam.png"
    )
    message.add_attachment(b"log line\n", maintype="text", subtype="plain", filename="printer.log")

    assert send(port, message) == {}

    key = only_ticket(mail_service, "zhang.san@customer.cn")
    requester = actor(db, "zhang.san@customer.cn")
    ticket = mail_service.get_ticket(requester, key)
    assert ticket.title == "Printer on floor 3 is jammed"
    assert "E-42" in ticket.description
    assert ticket.requester == "zhang.san@customer.cn"
    assert ticket.data["category"] == "software"  # the mailbox's default
    files = [mail_service.read_attachment(requester, i) for i in ticket.data["files"]]
    assert [(name, content) for name, _, content in files] == [
        ("jam.png", b"\x89PNG fake screenshot"),
        ("printer.log", b"log line\n"),
    ]
    with db.reading() as session:
        from sqlalchemy import select

        from gongdan.engine.store.models import User

        user = session.scalar(select(User).where(User.email == "zhang.san@customer.cn"))
        assert user is not None
        assert (user.role, user.name, user.language) == ("requester", "Zhang San", "zh-CN")
    logged = list_mail(db)
    assert [(m.direction, m.status, m.ticket_key) for m in logged] == [("in", "accepted", key)]


def test_a_reply_becomes_a_public_comment_by_its_sender(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    send(port, mail())
    key = only_ticket(mail_service, "zhang.san@customer.cn")

    reply = mail(
        subject=f"Re: [{key}] Printer on floor 3 is jammed",
        body="It works again after a restart.\n\nOn Mon, 2 Nov 2026, desk wrote:\n> old text",
    )
    assert send(port, reply) == {}

    requester = actor(db, "zhang.san@customer.cn")
    comments = mail_service.list_comments(requester, key)
    assert [(c.author, c.body, c.public) for c in comments] == [
        ("zhang.san@customer.cn", "It works again after a restart.", True)
    ]


def test_a_reply_found_by_in_reply_to(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    send(port, mail())
    key = only_ticket(mail_service, "zhang.san@customer.cn")
    MailLog(db).record(
        message_id="<gongdan.7.abc@gongdan.test>",
        direction="out",
        status="sent",
        ticket_key=key,
    )

    send(
        port,
        mail(
            subject="Re: your request", body="Thanks!", In_Reply_To="<gongdan.7.abc@gongdan.test>"
        ),
    )

    comments = mail_service.list_comments(actor(db, "zhang.san@customer.cn"), key)
    assert [c.body for c in comments] == ["Thanks!"]


def test_someone_else_may_not_comment_by_mail(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    send(port, mail())
    key = only_ticket(mail_service, "zhang.san@customer.cn")
    make_user(db, "mallory@customer.cn", "requester")

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(port, mail(sender="mallory@customer.cn", subject=f"Re: [{key}]", body="me too"))

    assert refused.value.smtp_code == 550
    assert f"may not comment on {key}" in refused.value.smtp_error.decode()
    assert mail_service.list_comments(actor(db, "zhang.san@customer.cn"), key) == []
    assert list_mail(db)[0].status == "rejected"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X_Autoreply": "yes"},
        {"List_Id": "<news.customer.cn>"},
    ],
    ids=["auto-submitted", "bulk", "x-autoreply", "list"],
)
def test_automatic_mail_is_ignored(
    listener: tuple[MailListener, int],
    mail_service: TicketService,
    db: Database,
    headers: dict[str, str],
) -> None:
    _, port = listener
    send(port, mail(subject="Out of office", **headers))

    assert mail_service.list_tickets(actor_for_system()).items == ()
    logged = list_mail(db)
    assert [(m.status, m.ticket_key) for m in logged] == [("ignored", None)]
    assert (logged[0].reason or "").startswith("sent automatically")


def actor_for_system():  # type: ignore[no-untyped-def]
    from gongdan.rules.workflow import Actor

    return Actor.system()


def test_our_own_messages_coming_back_are_ignored(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    MailLog(db).record(message_id="<gongdan.9.x@gongdan.test>", direction="out", status="sent")

    send(port, mail(Message_ID="<gongdan.9.x@gongdan.test>"))
    send(port, mail(sender=OUR_ADDRESS))

    assert mail_service.list_tickets(actor_for_system()).items == ()
    reasons = [m.reason for m in list_mail(db) if m.direction == "in"]
    assert reasons == [
        "sent from our own address (mail loop)",
        "one of our own messages came back (mail loop)",
    ]


def test_the_same_mail_twice_makes_one_ticket(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    message = mail(Message_ID="<once@customer.cn>")
    send(port, message)
    send(port, message)
    assert len(mail_service.list_tickets(actor_for_system()).items) == 1


def test_malformed_mail_is_rejected_with_a_reason(
    listener: tuple[MailListener, int], db: Database
) -> None:
    _, port = listener
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        client.sendmail("x@customer.cn", [SUPPORT], b"Subject: no sender here\r\n\r\nhello\r\n")
    assert refused.value.smtp_code == 554
    assert "no valid sender address" in refused.value.smtp_error.decode()
    assert [(m.status, m.reason) for m in list_mail(db)] == [
        ("rejected", "malformed message: no valid sender address in the From header")
    ]


def test_oversized_mail_is_refused_with_552_and_logged(
    listener: tuple[MailListener, int], db: Database
) -> None:
    _, port = listener
    message = mail()
    message.add_attachment(
        b"x" * (2 * 1024 * 1024 + 10),
        maintype="application",
        subtype="octet-stream",
        filename="big.bin",
    )
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(port, message)
    assert refused.value.smtp_code == 552
    assert "at most 2 MB" in refused.value.smtp_error.decode()
    assert [(m.status, m.reason) for m in list_mail(db)] == [
        ("rejected", "message too large: at most 2 MB")
    ]


def test_mail_for_an_unknown_address_is_refused_at_rcpt(listener: tuple[MailListener, int]) -> None:
    _, port = listener
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(port, mail(), to="nobody@example.com")
    code, text = refused.value.recipients["nobody@example.com"]
    assert code == 550
    assert b"no such mailbox" in text


def test_html_mail_becomes_text_without_markup(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    message = EmailMessage()
    message["From"] = "li.ming@customer.cn"
    message["To"] = SUPPORT
    message["Subject"] = "VPN"
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>VPN drops <b>every</b> hour.</p><ul><li>Windows 11</li><li>Office</li></ul>"
        '<p>See <a href="https://status.example.com">status</a></p></body></html>',
        subtype="html",
    )
    send(port, message)

    key = only_ticket(mail_service, "li.ming@customer.cn")
    ticket = mail_service.get_ticket(actor(db, "li.ming@customer.cn"), key)
    assert ticket.description == (
        "VPN drops every hour.\n\n- Windows 11\n- Office\n\nSee status <https://status.example.com>"
    )


def test_a_replys_attachments_are_the_comments_files(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    _, port = listener
    send(port, mail())
    key = only_ticket(mail_service, "zhang.san@customer.cn")
    reply = mail(subject=f"Re: [{key}]", body="Photo attached.")
    reply.add_attachment(b"\xff\xd8\xffJPEG", maintype="image", subtype="jpeg", filename="jam.jpg")
    reply.add_attachment(b"<script>", maintype="text", subtype="html", filename="page.html")

    send(port, reply)

    requester = actor(db, "zhang.san@customer.cn")
    ticket = mail_service.get_ticket(requester, key)
    assert not ticket.data.get("files")  # the reply's, not the ticket's fields
    (comment,) = mail_service.list_comments(requester, key)
    assert [(f.filename, f.preview) for f in comment.files] == [("jam.jpg", "image")]
    assert mail_service.read_attachment(requester, comment.files[0].id)[0] == "jam.jpg"
    assert comment.body.startswith(
        "Photo attached.\n\nAttachments not kept / 未保存的附件:\n- page.html: "
        "'page.html' must be one of these file types"
    )


def test_a_malformed_attachment_is_named_and_the_rest_kept(
    listener: tuple[MailListener, int], mail_service: TicketService, db: Database
) -> None:
    """Broken base64 in one part: the reply and its good file are kept, the broken one
    named as not kept (never a 5xx, never a lost mail)."""
    _, port = listener
    send(port, mail())
    key = only_ticket(mail_service, "zhang.san@customer.cn")
    reply = mail(subject=f"Re: [{key}]", body="Two files.")
    reply.add_attachment(b"fine", maintype="text", subtype="plain", filename="ok.txt")
    reply.add_attachment(b"x", maintype="application", subtype="pdf", filename="broken.pdf")
    broken = list(reply.iter_attachments())[1]
    broken.set_payload("!!!not*base64@@@=")
    del broken["Content-Transfer-Encoding"]
    broken["Content-Transfer-Encoding"] = "base64"

    assert send(port, reply) == {}

    requester = actor(db, "zhang.san@customer.cn")
    (comment,) = mail_service.list_comments(requester, key)
    assert [f.filename for f in comment.files] == ["ok.txt"]
    assert "- broken.pdf: the attachment is malformed and could not be read" in comment.body


def test_oversized_data_without_a_size_announcement_is_refused_with_552(
    listener: tuple[MailListener, int], db: Database
) -> None:
    _, port = listener
    big = mail().as_bytes().replace(b"\n", b"\r\n") + (b"x" * 998 + b"\r\n") * 2200
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("zhang.san@customer.cn")  # no SIZE=: the limit is found during DATA
        client.rcpt(SUPPORT)
        code, text = client.data(big)
    assert (code, text) == (552, b"5.3.4 message too large: at most 2 MB")
    assert [(m.status, m.sender, m.reason) for m in list_mail(db)] == [
        ("rejected", "zhang.san@customer.cn", "message too large: at most 2 MB")
    ]
