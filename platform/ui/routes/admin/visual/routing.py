"""The routing rules editor's form → document mapping: ordered rules (moved by drag and
drop or the keyboard), each with its condition rows, assignment (team, strategy,
skills), fields it sets, tags it adds and whether routing continues after it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.context import Catalog
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual.actions import posted_pairs, write_pairs
from gongdan.ui.routes.admin.visual.conditions import posted_tree, write_condition
from gongdan.ui.routes.admin.visual.controls import Posted
from gongdan.ui.routes.admin.visual.document import flow, set_value
from gongdan.ui.routes.admin.visual.ticket_type import edit_condition

__all__ = ["apply_routing", "new_routing", "routing_catalog", "test_values"]


def new_routing(ruleset_id: str) -> str:
    return (
        "kind: RoutingRules\n"
        f"id: {ruleset_id}\n"
        "rules:\n"
        "  - name: {en: New rule, zh-CN: 新规则}\n"
        "    when: {priority: urgent}\n"
        "    add_tags: [urgent]\n"
        "    continue: true\n"
    )


def routing_catalog(doc: Mapping[str, Any], bundle: Bundle | None) -> dict[str, FieldInfo]:
    """What a rule may name: the built-ins and every ticket type's fields."""
    if bundle is None:
        return dict(Catalog.builtins(type_ids=[], states=[], teams=[]).fields)
    states = sorted({s for w in bundle.workflows.values() for s in w.states})
    catalog = Catalog.builtins(
        type_ids=list(bundle.ticket_types), states=states, teams=list(bundle.teams)
    )
    return dict(
        catalog.with_fields([f for t in bundle.ticket_types.values() for f in t.fields]).fields
    )


def _load(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text


def test_values(text: str) -> dict[str, Any] | str:
    """The ticket values typed into the tester (a YAML mapping), or why they are not."""
    loaded = _load(text)
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        return "write the ticket's values as a YAML mapping, like  type: it_incident"
    return {str(k): v for k, v in loaded.items()}


def apply_routing(
    doc: CommentedMap, posted: Posted, op: str, infos: Mapping[str, FieldInfo]
) -> None:
    text = posted.text("id")
    if text is not None:
        set_value(doc, "id", text)
    rules = doc.get("rules")
    if not isinstance(rules, CommentedSeq):
        rules = doc["rules"] = CommentedSeq()
    for index, raw in enumerate(rules):
        if isinstance(raw, CommentedMap):
            _apply_rule(raw, f"rules[{index}]", posted, infos)
    parts = op.split("|") if op else []
    numbers = [int(p) for p in parts[1:] if p.isdigit()]
    if parts[:1] == ["add-rule"]:
        rules.insert(
            0,
            CommentedMap(
                [
                    ("name", flow({"en": "New rule", "zh-CN": "新规则"})),
                    ("when", flow({"type": ""})),
                ]
            ),
        )
    elif parts[:1] == ["remove-rule"] and numbers and numbers[0] < len(rules):
        rules.pop(numbers[0])
    elif parts[:1] == ["move-rule"] and len(numbers) == 2:
        source, target = numbers
        if 0 <= source < len(rules) and 0 <= target < len(rules):
            rules.insert(target, rules.pop(source))
    elif parts[:1] == ["cond"] and len(parts) == 4:
        edit_condition(doc, parts[2], parts[1], parts[3], posted, infos)


def _apply_rule(
    raw: CommentedMap, path: str, posted: Posted, infos: Mapping[str, FieldInfo]
) -> None:
    label = posted.label(f"{path}.name", raw.get("name"))
    if label is ...:
        return
    set_value(raw, "name", label)
    tree = posted_tree(posted.form, f"{path}.when")
    if tree is not None:
        write_condition(raw, "when", tree, infos)
    team = posted.text(f"{path}.assign.team")
    if team is not None:
        assign = raw.get("assign")
        wanted: dict[str, Any] = {}
        if team:
            wanted = {
                "team": team,
                "strategy": posted.text(f"{path}.assign.strategy") or "round_robin",
            }
            skills = posted.items(f"{path}.assign.skills")
            if skills:
                wanted["skills"] = skills
        if isinstance(assign, CommentedMap) and wanted:
            for key in ("team", "strategy", "skills"):
                set_value(assign, key, wanted.get(key))
        else:
            set_value(raw, "assign", wanted or None)
    updates = posted_pairs(posted.form, f"{path}.set", infos)
    if updates is not None:
        write_pairs(raw, "set", updates)
    tags = posted.items(f"{path}.add_tags")
    if tags is not None:
        set_value(raw, "add_tags", tags)
    flag = posted.flag(f"{path}.continue")
    if flag is not None:
        set_value(raw, "continue", True if flag else None)
