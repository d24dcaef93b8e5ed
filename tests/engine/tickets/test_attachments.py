"""Attachments: limits from the field, content stored once by hash, scoped reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.tickets.attachments import AttachmentStore
from gongdan.errors import NotFound, ValidationFailed
from tests.factories import make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def files(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments")


@pytest.fixture
def svc(db: Database, example_bundle: Bundle, files: AttachmentStore) -> TicketService:
    return TicketService(db, example_bundle, attachments=files)


def rma_fields(photos: list[str]) -> dict[str, object]:
    return {
        "order_number": "JD2026110200001",
        "product": "smartphone",
        "purchase_date": "2026-10-20",
        "request_kind": "repair",
        "reason": "defective",
        "reason_details": "Screen flickers",
        "photos": photos,
    }


def test_upload_then_attach_on_create(
    db: Database, svc: TicketService, files: AttachmentStore
) -> None:
    customer = make_user(db, "chen.jing@example.com", "requester")
    first = svc.upload(
        customer,
        "after_sales",
        "photos",
        filename="screen.png",
        content_type="image/png",
        content=PNG,
    )
    second = svc.upload(
        customer,
        "after_sales",
        "photos",
        filename="copy.png",
        content_type="image/png",
        content=PNG,
    )
    # Same content is stored once.
    assert len(list(files.root.rglob("*"))) == 2  # one folder, one file
    created = svc.create_ticket(
        customer,
        "after_sales",
        title="Phone screen flickers",
        fields=rma_fields([str(first), str(second)]),
    )
    assert created.ticket.data["photos"] == [str(first), str(second)]
    name, kind, content = svc.read_attachment(customer, first)
    assert (name, kind, content) == ("screen.png", "image/png", PNG)


def test_field_limits_are_enforced(db: Database, svc: TicketService) -> None:
    customer = make_user(db, "chen.jing@example.com", "requester")
    with pytest.raises(ValidationFailed) as wrong_type:
        svc.upload(
            customer,
            "after_sales",
            "photos",
            filename="virus.exe",
            content_type="application/x-msdownload",
            content=b"MZ",
        )
    assert "photos" in wrong_type.value.fields
    with pytest.raises(ValidationFailed, match="larger than 10 MB"):
        svc.upload(
            customer,
            "after_sales",
            "photos",
            filename="huge.png",
            content_type="image/png",
            content=b"\x00" * (10 * 1024 * 1024 + 1),
        )
    with pytest.raises(ValidationFailed):
        svc.upload(
            customer,
            "after_sales",
            "order_number",
            filename="a.png",
            content_type="image/png",
            content=PNG,
        )


def test_attachments_are_scoped_like_their_ticket(db: Database, svc: TicketService) -> None:
    owner = make_user(db, "chen.jing@example.com", "requester")
    stranger = make_user(db, "wang.wu@example.com", "requester")
    upload = svc.upload(
        owner, "after_sales", "photos", filename="a.png", content_type="image/png", content=PNG
    )
    with pytest.raises(NotFound):
        svc.read_attachment(stranger, upload)
    svc.create_ticket(owner, "after_sales", title="Broken", fields=rma_fields([str(upload)]))
    with pytest.raises(NotFound):
        svc.read_attachment(stranger, upload)
    # Someone else cannot put my upload on their ticket.
    other = svc.upload(
        owner,
        "after_sales",
        "photos",
        filename="b.png",
        content_type="image/png",
        content=PNG + b"b",
    )
    with pytest.raises(ValidationFailed):
        svc.create_ticket(stranger, "after_sales", title="Mine", fields=rma_fields([str(other)]))
