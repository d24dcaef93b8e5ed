"""The Teams pages: members, skills and capacity edited in the browser are written to
`config/teams/*.yaml` through the save pipeline (only the lines that change; a new
version, live at once, the memberships synced), and a new team is a new file."""

from __future__ import annotations

import re

from sqlalchemy import select

from gongdan.bundle.roundtrip import unified_diff
from gongdan.engine import version_log
from gongdan.engine.store.models import Membership, User
from tests.ui.admin.conftest import AGENT, Console

FILE = "teams/service_desk.yaml"


def rows(html: str, name: str) -> list[str]:
    return re.findall(
        rf'name="{name}" type="[a-z]+" (?:inputmode="numeric" )?maxlength="\d+" value="([^"]*)"',
        html,
    )


def test_members_skills_and_capacity_are_saved_to_the_teams_file(console: Console) -> None:
    page = console.admin.get("/admin/teams/service_desk")
    assert page.status_code == 200 and FILE in page.text
    users = rows(page.text, "member_user")
    skills = rows(page.text, "member_skills")
    capacities = rows(page.text, "member_capacity")
    assert users[0] == AGENT and users[-1] == "" and capacities[0] == "20"
    before = (console.root / FILE).read_text(encoding="utf-8")

    capacities[0] = "25"
    users[-3], skills[-3], capacities[-3] = "new.agent@example.com", "vpn, network", "5"
    form = {
        "base": re.search(r'name="base" value="([^"]*)"', page.text).group(1),  # type: ignore[union-attr]
        "name_en": "IT service desk",
        "name_zh": "IT 服务台",
        "email": "servicedesk@example.com",
        "member_user": users,
        "member_skills": skills,
        "member_capacity": capacities,
        "member_remove": ["4"],
        "message": "Rebalance the desk",
    }
    review = console.admin.send_form("/admin/teams/service_desk/review", form)
    assert review.status_code == 200 and "<ins>" in review.text

    saved = console.admin.send_form("/admin/teams/service_desk/save", form)
    assert saved.status_code == 303, saved.text
    after = (console.root / FILE).read_text(encoding="utf-8")
    changed = [
        line for line in unified_diff(FILE, before, after).splitlines()[2:] if line[:1] in "+-"
    ]
    assert changed == [
        "-  - {user: li.wei@example.com, skills: [software, mail, office], capacity: 20}",
        "+  - {user: li.wei@example.com, skills: [software, mail, office], capacity: 25}",
        "-  - {user: chen.jing@example.com, skills: [software], capacity: 10}",
        "+  - {user: new.agent@example.com, skills: [vpn, network], capacity: 5}",
    ]
    latest = version_log(console.web.db)[0]
    assert latest.source == "editor"
    team = console.web.app.state.live.bundle.teams["service_desk"]
    assert [m.user for m in team.members][-1] == "new.agent@example.com"
    with console.web.db.reading() as session:
        capacity = session.scalar(
            select(Membership.capacity)
            .join(User, User.id == Membership.user_id)
            .where(User.email == AGENT, Membership.team_id == "service_desk")
        )
    assert capacity == 25


def test_a_bad_capacity_is_refused_with_nothing_written(console: Console) -> None:
    page = console.admin.get("/admin/teams/service_desk")
    before = (console.root / FILE).read_text(encoding="utf-8")
    capacities = rows(page.text, "member_capacity")
    capacities[0] = "lots"
    saved = console.admin.send_form(
        "/admin/teams/service_desk/save",
        {
            "name_en": "IT service desk",
            "member_user": rows(page.text, "member_user"),
            "member_skills": rows(page.text, "member_skills"),
            "member_capacity": capacities,
        },
    )
    assert saved.status_code == 422 and "must be a whole number" in saved.text
    assert (console.root / FILE).read_text(encoding="utf-8") == before


def test_a_new_team_is_a_new_file(console: Console) -> None:
    made = console.admin.send_form(
        "/admin/teams", {"team_id": "facilities", "name_en": "Facilities", "name_zh": "行政后勤"}
    )
    assert made.status_code == 303, made.text
    assert (console.root / "teams/facilities.yaml").read_text(encoding="utf-8") == (
        "kind: Team\nid: facilities\nname: {en: Facilities, zh-CN: 行政后勤}\n"
    )
    assert "facilities" in console.web.app.state.live.bundle.teams
    again = console.admin.send_form("/admin/teams", {"team_id": "facilities", "name_en": "F"})
    assert again.status_code == 422 and "already exists" in again.text
