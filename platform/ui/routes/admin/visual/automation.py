"""The automation editor's form → document mapping: the event it runs on (or a schedule
and its interval), its condition rows, its actions and whether it is enabled."""

from __future__ import annotations

from collections.abc import Mapping

from ruamel.yaml.comments import CommentedMap

from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual.actions import posted_actions, write_actions
from gongdan.ui.routes.admin.visual.conditions import posted_tree, write_condition
from gongdan.ui.routes.admin.visual.controls import Posted
from gongdan.ui.routes.admin.visual.document import set_posted, set_value
from gongdan.ui.routes.admin.visual.ticket_type import edit_condition

__all__ = ["EVENTS", "apply_automation", "new_automation"]

EVENTS = (
    "ticket.created",
    "ticket.updated",
    "ticket.transitioned",
    "sla.warning",
    "sla.breached",
    "schedule",
)


def new_automation(automation_id: str) -> str:
    return (
        "kind: Automation\n"
        f"id: {automation_id}\n"
        "name: {en: New automation, zh-CN: 新自动化}\n"
        "on: ticket.created\n"
        "when: {priority: urgent}\n"
        "actions: [{notify: team}]\n"
    )


def apply_automation(
    doc: CommentedMap, posted: Posted, op: str, infos: Mapping[str, FieldInfo]
) -> None:
    set_posted(doc, posted, ("id", "on", "every"))
    enabled = posted.flag("enabled")
    if enabled is not None:
        set_value(doc, "enabled", None if enabled else False)
    tree = posted_tree(posted.form, "when")
    if tree is not None:
        write_condition(doc, "when", tree, infos)
    actions = posted_actions(posted.form, "actions", infos)
    if actions is not None:
        write_actions(doc, "actions", actions)
    parts = op.split("|") if op else []
    if parts[:1] == ["cond"] and len(parts) == 4:
        edit_condition(doc, parts[2], parts[1], parts[3], posted, infos)
