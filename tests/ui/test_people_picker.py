"""The picker of a `user` field on the desk (TestClient, SQLite and PostgreSQL): the
options follow what is typed (htmx), active users only and of the field's `role` when
it says so; saving still refuses an address with no active account, or of another
role."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from gongdan.errors import ValidationFailed
from gongdan.forms.fields import FIELD_TYPES
from gongdan.forms.types.references import role_matches
from tests.ui.conftest import Web

HTMX = {"HX-Request": "true"}


def _options(web: Web, email: str, typed: str, role: str = "") -> str:
    client = web.client(email)
    answer = client.get(
        "/desk/people", params={"for": "approver", "approver": typed, "role": role}, headers=HTMX
    )
    assert answer.status_code == 200
    return answer.text


def test_the_options_follow_what_is_typed_by_role(web: Web) -> None:
    web.user("li.wei@example.com", teams=("service_desk",))
    web.user("li.na@example.com", "requester")
    web.user("wang.li@example.com", "admin")
    web.user("li.gone@example.com", "requester")
    with web.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET active = false WHERE email = 'li.gone@example.com'")
    anyone = _options(web, "li.wei@example.com", "li.")
    assert 'value="li.na@example.com"' in anyone and 'value="li.wei@example.com"' in anyone
    assert "li.gone@" not in anyone  # inactive: never offered
    staff = _options(web, "li.wei@example.com", "li", role="staff")
    assert "li.na@" not in staff and "wang.li@" in staff and "li.wei@" in staff
    requesters = _options(web, "li.wei@example.com", "x@example.com, li.n", role="requester")
    assert requesters.count("<option") == 1 and "li.na@" in requesters  # after the comma
    assert _options(web, "li.wei@example.com", "").strip() == ""
    portal = web.client("li.na@example.com").get("/desk/people?for=a&a=li", headers=HTMX)
    assert portal.status_code in (303, 403)  # requesters get no directory


def test_the_desk_field_polls_as_one_types(web: Web) -> None:
    agent = web.user("li.wei@example.com", teams=("service_desk",))
    assert agent is not None
    page = web.client("li.wei@example.com").get("/desk/new/access_request").text
    assert 'hx-get="/desk/people"' in page and "from:find input" in page
    assert '"for": "approver"' in page


def test_a_role_is_checked_when_the_bundle_loads_and_when_saved() -> None:
    user_type = FIELD_TYPES["user"]
    assert user_type.check_params({"id": "m", "type": "user", "role": "staff"}) == []
    problems = user_type.check_params({"id": "m", "type": "user", "role": "boss"})
    assert problems and "staff, agent, admin, requester" in problems[0].message
    assert role_matches("staff", "admin") and role_matches("staff", "agent")
    assert not role_matches("staff", "requester") and role_matches(None, "requester")


def test_saving_refuses_a_user_of_another_role(web: Web) -> None:
    requester = web.user("zhang.san@example.com", "requester")
    web.user("li.na@example.com", "requester")
    web.user("boss@example.com", "agent", teams=("service_desk",))
    approver = web.service.bundle.ticket_types["access_request"].field_map["approver"]
    was = approver.params
    object.__setattr__(approver, "params", MappingProxyType({**was, "role": "staff"}))
    try:
        with pytest.raises(ValidationFailed) as refused:
            web.service.create_ticket(
                requester, "access_request", title="Access to the finance share",
                fields={"system": "erp", "access_level": "read",
                        "approver": "li.na@example.com", "justification": "Month-end close"},
            )  # fmt: skip
    finally:
        object.__setattr__(approver, "params", was)
    assert refused.value.fields["approver"] == "'li.na@example.com' is not an agent or admin"
