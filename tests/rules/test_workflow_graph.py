"""`workflow_svg`: a workflow's state machine drawn as SVG in plain Python, readable in
English and Chinese, the same bytes every time, safe with any label."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from types import MappingProxyType
from typing import Any

import pytest

from gongdan.bundle.loader import check_bundle
from gongdan.rules.conditions import compile_condition
from gongdan.rules.durations import parse_duration
from gongdan.rules.workflow import StateDef, TransitionDef, WorkflowDef
from gongdan.rules.workflow_graph import CATEGORY_STYLE, text_width, workflow_svg
from tests.helpers import REPO

SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]


def _workflow(
    states: dict[str, tuple[str, Any]],
    transitions: list[dict[str, Any]],
    initial: str,
    name: Any = "Test",
) -> WorkflowDef:
    compiled = []
    for t in transitions:
        guard = compile_condition(t["when"])[0] if "when" in t else None
        compiled.append(
            TransitionDef(
                id=t["id"],
                label=t.get("label", t["id"]),
                sources=frozenset(t["from"]),
                target=t["to"],
                roles=frozenset(t.get("roles", ["agent"])),
                guard=guard,
                fields=(),
                comment=None,
                after=parse_duration(t["after"]) if "after" in t else None,
                actions=(),
            )
        )
    by_source: dict[str, list[TransitionDef]] = {}
    for compiled_transition in compiled:
        for source in sorted(compiled_transition.sources):
            by_source.setdefault(source, []).append(compiled_transition)
    return WorkflowDef(
        id="test",
        name=name,
        initial=initial,
        states=MappingProxyType(
            {s: StateDef(s, category, label) for s, (category, label) in states.items()}
        ),
        transitions=tuple(compiled),
        on_enter=MappingProxyType({}),
        by_source=MappingProxyType({k: tuple(v) for k, v in by_source.items()}),
    )


def _example(workflow_id: str) -> WorkflowDef:
    bundle, _issues = check_bundle(REPO / "config")
    assert bundle is not None
    return bundle.workflows[workflow_id]


def _parse(svg: str) -> ET.Element:
    # The document is the drawing under test, made here: no entity or DTD can reach it.
    return ET.fromstring(svg)  # noqa: S314


def _box(rect: ET.Element) -> Box:
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    return x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0))


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def _text(group: ET.Element) -> str:
    return " | ".join(t.text or "" for t in group.iter(f"{SVG}text"))


@pytest.mark.parametrize(
    "workflow_id", ["incident", "approval", "after_sales", "maintenance", "complaint"]
)
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_example_workflow_is_drawn_whole_and_legible(workflow_id: str, language: str) -> None:
    workflow = _example(workflow_id)
    svg = workflow_svg(workflow, language)
    root = _parse(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    # One box per state, styled by its category with the colours of the other formats.
    states = {g.get("data-state"): g for g in _groups(root, "state")}
    assert set(states) == set(workflow.states)
    for state_id, group in states.items():
        category = workflow.states[str(state_id)].category
        rect = group.find(f"{SVG}rect")
        assert rect is not None
        assert (rect.get("fill"), rect.get("stroke")) == CATEGORY_STYLE[category]
    # One path and one label per transition and source, each saying who may take it.
    edges = [(g.get("data-source"), g.get("data-transition")) for g in _groups(root, "transition")]
    expected = [(s, t.id) for t in workflow.transitions for s in sorted(t.sources)]
    assert sorted(edges) == sorted(expected)
    labels = _groups(root, "transition-label")
    assert len(labels) == len(expected)
    for group in labels:
        transition = next(t for t in workflow.transitions if t.id == group.get("data-transition"))
        text = _text(group)
        assert transition.id in text
        assert all(role in text for role in transition.roles)
        if transition.after is not None:
            assert str(transition.after) in text
    # Nothing overlaps: no two state boxes, no two labels, no label over a box.
    boxes = [_box(r) for g in states.values() for r in g.iter(f"{SVG}rect")]
    label_boxes = [_box(r) for g in labels for r in g.iter(f"{SVG}rect")]
    for a, b in itertools.combinations(boxes + label_boxes, 2):
        assert not _overlap(a, b), (a, b)
    # Every box lies inside the canvas.
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    for x0, y0, x1, y1 in boxes + label_boxes:
        assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height
    # An accessible title and description, in the drawing's language.
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert workflow_id in (title.text or "")
    assert ("个状态" in (desc.text or "")) == (language == "zh-CN")


def test_chinese_labels_get_room_for_their_width() -> None:
    workflow = _example("after_sales")
    root = _parse(workflow_svg(workflow, "zh-CN"))
    state = next(g for g in _groups(root, "state") if g.get("data-state") == "awaiting_shipment")
    assert "等待客户寄回" in _text(state)
    rect = state.find(f"{SVG}rect")
    assert rect is not None
    assert float(rect.get("width", 0)) >= 6 * 13  # six characters of 13 px, one em each
    assert text_width("等待客户寄回", 13) == 6 * 13
    assert text_width("Inspection", 13) < text_width("检测中检测中检测中", 13)
    label = next(
        g for g in _groups(root, "transition-label") if g.get("data-transition") == "close"
    )
    assert "关闭 · close" in _text(label) and "超时 7d" in _text(label)


def test_the_same_workflow_gives_the_same_bytes() -> None:
    workflow = _example("after_sales")
    assert workflow_svg(workflow) == workflow_svg(workflow)
    assert workflow_svg(workflow) == workflow_svg(_example("after_sales"))
    assert workflow_svg(workflow, "zh-CN") != workflow_svg(workflow, "en")


def test_hostile_labels_are_text_not_markup() -> None:
    evil = '<script>alert("x")</script> & <b>'
    workflow = _workflow(
        {
            "new": ("new", {"en": evil}),
            "done": ("closed", "Done & dusted"),
        },
        [{"id": "finish", "label": {"en": "]]> <svg onload=x>"}, "from": ["new"], "to": "done"}],
        "new",
        name=evil,
    )
    svg = workflow_svg(workflow)
    assert "<script>" not in svg and "<svg onload" not in svg and "<b>" not in svg
    root = _parse(svg)
    assert not list(root.iter("script")) and not list(root.iter(f"{SVG}script"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert evil in texts and "Done & dusted" in texts
    assert "]]> <svg onload=x> · finish" in texts
    title = root.find(f"{SVG}title")
    assert title is not None and evil in (title.text or "")


def test_loops_back_edges_and_unreachable_states() -> None:
    workflow = _workflow(
        {
            "a": ("new", "A"),
            "b": ("open", "B"),
            "c": ("pending", "C"),
            "d": ("resolved", "D"),
            "orphan": ("closed", "Orphan"),
        },
        [
            {"id": "go", "from": ["a"], "to": "b"},
            {"id": "wait", "from": ["b"], "to": "c"},
            {"id": "done", "from": ["c", "b"], "to": "d", "when": {"assignee": {"empty": False}}},
            {"id": "again", "from": ["d"], "to": "a", "roles": ["requester"], "after": "2h"},
            {"id": "note", "from": ["b"], "to": "b"},
            {"id": "skip", "from": ["a"], "to": "d"},
        ],
        "a",
    )
    root = _parse(workflow_svg(workflow))
    kinds = {
        (g.get("data-transition"), g.get("data-source")): (g.get("class") or "").split()[1]
        for g in _groups(root, "transition")
    }
    assert kinds[("again", "d")] == "back"
    assert kinds[("note", "b")] == "same"
    assert kinds[("go", "a")] == kinds[("skip", "a")] == "forward"
    label = next(g for g in _groups(root, "transition-label") if g.get("data-source") == "c")
    assert "when assignee set" in _text(label)
    again = next(
        g for g in _groups(root, "transition-label") if g.get("data-transition") == "again"
    )
    assert "by requester · after 2h" in _text(again)
    xs = {}
    for group in _groups(root, "state"):
        rect = group.find(f"{SVG}rect")
        assert rect is not None
        xs[group.get("data-state")] = float(rect.get("x", 0))
    # Left to right in the order the work goes; the unreachable state still drawn.
    assert xs["a"] < xs["b"] < xs["c"] < xs["d"]
    assert "orphan" in xs


def test_a_lone_state() -> None:
    workflow = _workflow({"only": ("new", "Only")}, [], "only")
    root = _parse(workflow_svg(workflow))
    assert [g.get("data-state") for g in _groups(root, "state")] == ["only"]
    assert not _groups(root, "transition")
