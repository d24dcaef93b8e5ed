"""`/admin/teams`: the teams of the config, their members, skills and capacity edited
in the browser and written to `config/teams/*.yaml` through the save pipeline.

A team's page is a table of its members (one row each: the address, the skills
separated by commas, the capacity), with empty rows to add people and a checkbox to
remove one; the team's names and address above. "Review" shows the diff and the plan
summary, "Save" writes the team's file (only the lines that change; comments and layout
stay) with the admin's message: a versioned config change like any other, live in
every process at once, the memberships synced by the promotion. A new team is a new
file `teams/<id>.yaml`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from gongdan.bundle.edits import FileChange
from gongdan.bundle.roundtrip import YamlFile, assign
from gongdan.engine import ConfigEditor
from gongdan.ui.deps import BundleDep
from gongdan.ui.render import render
from gongdan.ui.routes.admin import saving
from gongdan.ui.routes.admin.access import AdminUser, EditorDep, admin_router

__all__ = ["router"]

router = admin_router()
PAGE = "admin/team.html"
BLANK_ROWS = 3  # empty member rows under the team's members, to add people
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

Texts = Annotated[list[str], Form()]
Short = Annotated[str, Form(max_length=1000)]


@router.get("/admin/teams")
def teams(request: Request, user: AdminUser, bundle: BundleDep) -> Response:
    return render(
        request,
        "admin/teams.html",
        {
            "teams": sorted(bundle.teams.values(), key=lambda t: t.id),
            "new_errors": {},
            "new_values": {},
        },
    )


def _members_of(document: Any) -> list[dict[str, Any]]:
    rows = []
    for member in document.get("members") or []:
        if isinstance(member, dict):
            skills = member.get("skills") or []
            rows.append(
                {
                    "user": str(member.get("user", "")),
                    "skills": ", ".join(str(s) for s in skills) if isinstance(skills, list) else "",
                    "capacity": ""
                    if member.get("capacity") is None
                    else str(member.get("capacity")),
                }
            )
    return rows


def _team_context(editor: ConfigEditor, team_id: str) -> dict[str, Any]:
    path, index = editor.locate("Team", team_id)
    opened = editor.open(path)
    assert opened.yaml is not None  # noqa: S101 - open() parses
    document = opened.yaml.documents[index]
    name = document.get("name") or {}
    return {
        "team_id": team_id,
        "path": path,
        "base": opened.base or "",
        "name_en": str(name.get("en", "")) if isinstance(name, dict) else str(name),
        "name_zh": str(name.get("zh-CN", "")) if isinstance(name, dict) else "",
        "email": str(document.get("email") or ""),
        "members": _members_of(document),
        "blank_rows": BLANK_ROWS,
        "form_errors": {},
        **saving.outcome_context(action=f"/admin/teams/{team_id}/save"),
    }


@router.get("/admin/teams/{team_id}")
def team(
    request: Request,
    team_id: str,
    user: AdminUser,
    editor: EditorDep,
    saved: str = "",
    commit: str = "",
) -> Response:
    context = _team_context(editor, team_id)
    return render(
        request,
        PAGE,
        {**context, "saved_version": saving.hex_only(saved), "commit": saving.hex_only(commit)},
    )


def _members(
    users: list[str], skills: list[str], capacities: list[str], removed: list[str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The members typed in the table, as the team's YAML holds them, and the rows'
    problems by row (`capacity-3`: must be a whole number)."""
    members: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    gone = set(removed)
    for row, address in enumerate(users):
        address = address.strip()
        if not address or str(row) in gone:
            continue
        member: dict[str, Any] = {"user": address}
        named = [s.strip() for s in (skills[row] if row < len(skills) else "").split(",")]
        if any(named):
            member["skills"] = [s for s in named if s]
        capacity = (capacities[row] if row < len(capacities) else "").strip()
        if capacity:
            if capacity.isdigit():
                member["capacity"] = int(capacity)
            else:
                errors[f"capacity-{row}"] = "must be a whole number"
        members.append(member)
    return members, errors


def _changed_file(
    editor: ConfigEditor,
    team_id: str,
    base: str,
    name_en: str,
    name_zh: str,
    email: str,
    members: list[dict[str, Any]],
) -> FileChange:
    path, index = editor.locate("Team", team_id)
    opened = editor.open(path)
    assert opened.yaml is not None  # noqa: S101 - open() parses
    document = opened.yaml.documents[index]
    name: dict[str, str] = {"en": name_en.strip()}
    if name_zh.strip():
        name["zh-CN"] = name_zh.strip()
    assign(document, "name", name)
    if email.strip():
        assign(document, "email", email.strip())
    elif "email" in document:
        del document["email"]
    assign(document, "members", members)
    # The base is what the page showed: a file changed since is a conflict, not merged.
    return FileChange(path, opened.yaml.dump(), base or None)


def _post(
    request: Request,
    team_id: str,
    user: AdminUser,
    editor: EditorDep,
    *,
    saving_it: bool,
    base: str,
    name_en: str,
    name_zh: str,
    email: str,
    message: str,
    member_user: list[str],
    member_skills: list[str],
    member_capacity: list[str],
    member_remove: list[str],
) -> Response:
    members, errors = _members(member_user, member_skills, member_capacity, member_remove)
    action = f"/admin/teams/{team_id}/save"
    shown = {
        **_team_context(editor, team_id),
        "base": base,
        "name_en": name_en,
        "name_zh": name_zh,
        "email": email,
        "members": [
            {
                "user": u,
                "skills": member_skills[i] if i < len(member_skills) else "",
                "capacity": member_capacity[i] if i < len(member_capacity) else "",
            }
            for i, u in enumerate(member_user)
            if u.strip() and str(i) not in set(member_remove)
        ],
        "form_errors": errors,
    }
    page = (PAGE, shown)
    if errors:
        problem = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return saving.answer(
            request, saving.outcome_context(problem=problem, action=action), page, 422
        )
    change = _changed_file(editor, team_id, base, name_en, name_zh, email, members)
    if saving_it:
        return saving.save(
            request,
            editor,
            [change],
            user,
            message,
            action=action,
            page=page,
            done=f"/admin/teams/{team_id}",
        )
    return saving.review(request, editor, [change], action=action, message=message, page=page)


@router.post("/admin/teams/{team_id}/review")
@router.post("/admin/teams/{team_id}/save")
def post_team(
    request: Request,
    team_id: str,
    user: AdminUser,
    editor: EditorDep,
    base: Short = "",
    name_en: Short = "",
    name_zh: Short = "",
    email: Short = "",
    message: Short = "",
    member_user: Texts = [],  # noqa: B006 - FastAPI copies defaults
    member_skills: Texts = [],  # noqa: B006
    member_capacity: Texts = [],  # noqa: B006
    member_remove: Texts = [],  # noqa: B006
) -> Response:
    """The team's form reviewed (`…/review`: the diff and plan) or saved (`…/save`)."""
    return _post(
        request,
        team_id,
        user,
        editor,
        saving_it=request.url.path.endswith("/save"),
        base=base,
        name_en=name_en,
        name_zh=name_zh,
        email=email,
        message=message,
        member_user=member_user,
        member_skills=member_skills,
        member_capacity=member_capacity,
        member_remove=member_remove,
    )


@router.post("/admin/teams")
def new_team(
    request: Request,
    user: AdminUser,
    editor: EditorDep,
    bundle: BundleDep,
    team_id: Short = "",
    name_en: Short = "",
    name_zh: Short = "",
    message: Short = "",
) -> Response:
    """A new team: a new file `teams/<id>.yaml`, saved through the pipeline."""
    errors: dict[str, str] = {}
    clean = team_id.strip()
    if not _ID.match(clean):
        errors["team_id"] = "must be lower case letters, digits and _, starting with a letter"
    elif clean in bundle.teams:
        errors["team_id"] = f"a team '{clean}' already exists"
    if not name_en.strip():
        errors["name_en"] = "is required"
    values = {"team_id": team_id, "name_en": name_en, "name_zh": name_zh}
    if errors:
        context = {
            "teams": sorted(bundle.teams.values(), key=lambda t: t.id),
            "new_errors": errors,
            "new_values": values,
        }
        return render(request, "admin/teams.html", context, status_code=422)
    document: dict[str, Any] = {"kind": "Team", "id": clean, "name": {"en": name_en.strip()}}
    if name_zh.strip():
        document["name"]["zh-CN"] = name_zh.strip()
    text = YamlFile.from_data(document)
    change = FileChange.new_file(f"teams/{clean}.yaml", text)
    page = (
        "admin/teams.html",
        {
            "teams": sorted(bundle.teams.values(), key=lambda t: t.id),
            "new_errors": {},
            "new_values": values,
        },
    )
    return saving.save(
        request,
        editor,
        [change],
        user,
        message or f"Add the team {clean}",
        action="/admin/teams",
        page=page,
        done=f"/admin/teams/{clean}",
    )
