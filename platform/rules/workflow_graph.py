"""A workflow's state machine as a picture: Mermaid, Graphviz DOT, or a drawn SVG.

`workflow_mermaid` prints a Mermaid `stateDiagram-v2` (GitHub and GitLab render it in
Markdown), `workflow_dot` the same graph in Graphviz's language, and `workflow_svg`
draws it here, in plain Python, as a self-contained SVG (no Graphviz program, no
browser): `gongdan graph --format svg` prints it and the admin workflow editor shows it
live. In all three the states are styled by category (new, open, pending, resolved,
closed) with the same colours, the initial state is entered from a start mark, and each
transition is labelled with its id, who may take it, a short summary of its guard and
its `after:` delay.

The SVG layout is a small layered (Sugiyama-style) drawing, left to right:

- ranks: a state's column is its shortest distance from the initial state (states the
  initial state cannot reach come last), so every forward transition spans one column;
  a transition back to an earlier column passes through a waypoint in each column it
  crosses, a transition within a column bows out into the gap on its right;
- order: states and waypoints are ordered in their columns by barycentre sweeps (the
  ordering with the fewest crossings seen is kept), then placed vertically as close to
  their neighbours as their order and spacing allow (isotonic regression);
- labels sit in the gaps between columns, never overlapping each other or a state box,
  and each transition's path runs through its own label.

Text widths are estimated (a CJK character is as wide as the font size), so the drawing
reads in English and Simplified Chinese alike. Everything is a pure function of the
compiled workflow: the same workflow gives the same bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from gongdan.rules.workflow import TransitionDef, WorkflowDef
from gongdan.vocabulary import STATE_CATEGORIES, StateCategory

__all__ = [
    "CATEGORY_STYLE",
    "guard_summary",
    "state_label",
    "transition_label",
    "workflow_dot",
    "workflow_mermaid",
    "workflow_svg",
]

# One colour per state category (fill, stroke), the same in every format.
CATEGORY_STYLE: Mapping[str, tuple[str, str]] = {
    StateCategory.NEW: ("#e3f2fd", "#1e88e5"),
    StateCategory.OPEN: ("#fff8e1", "#f9a825"),
    StateCategory.PENDING: ("#f3e5f5", "#8e24aa"),
    StateCategory.RESOLVED: ("#e8f5e9", "#43a047"),
    StateCategory.CLOSED: ("#eceff1", "#546e7a"),
}
_OPERATORS = {
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": "in",
    "not_in": "not in",
    "contains": "contains",
    "starts_with": "starts with",
    "older_than": "older than",
    "newer_than": "newer than",
    "changed_to": "changed to",
}
MAX_GUARD = 60

# The few words of the drawing itself, in both languages.
_WORDS: Mapping[str, tuple[str, str]] = {
    "workflow": ("Workflow", "工作流"),
    "states": ("states", "个状态"),
    "transitions": ("transitions", "个流转"),
    "initial": ("starts in", "初始状态"),
    "after": ("after", "超时"),
    "by": ("by", "执行者"),
    "when": ("when", "条件"),
    "new": ("New", "新建"),
    "open": ("Open", "处理中"),
    "pending": ("Pending", "挂起"),
    "resolved": ("Resolved", "已解决"),
    "closed": ("Closed", "已关闭"),
}


def _word(key: str, language: str) -> str:
    english, chinese = _WORDS.get(key, (key, key))
    return chinese if language.lower().startswith("zh") else english


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "nothing" if value is None else str(value)


def _test(key: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{key} in {_value(value)}"
    if not isinstance(value, dict):
        return f"{key} = {_value(value)}"
    parts = []
    for op, operand in value.items():
        if op == "empty":
            parts.append(f"{key} {'empty' if operand else 'set'}")
        elif op == "changed":
            parts.append(f"{key} changed" if operand else f"{key} unchanged")
        else:
            parts.append(f"{key} {_OPERATORS.get(op, op)} {_value(operand)}")
    return " and ".join(parts)


def guard_summary(source: Any) -> str:
    """A condition in a few words: `assignee set`, `request_kind = repair`,
    `any(category = network, impact = company)`; cut short past a line's length."""
    if not isinstance(source, dict):
        return _value(source)
    parts = []
    for key, value in source.items():
        if key in ("any", "all") and isinstance(value, list):
            parts.append(f"{key}(" + ", ".join(guard_summary(v) for v in value) + ")")
        elif key == "not":
            parts.append(f"not({guard_summary(value)})")
        else:
            parts.append(_test(key, value))
    text = " and ".join(parts)
    return text if len(text) <= MAX_GUARD else text[: MAX_GUARD - 1] + "…"


def _roles(transition: TransitionDef) -> list[str]:
    return sorted(transition.roles) if transition.roles else ["agent"]


def transition_label(transition: TransitionDef) -> str:
    """`resolve (agent) after 72h [assignee set]`: id, roles, delay and guard."""
    parts = [transition.id, "(" + ", ".join(_roles(transition)) + ")"]
    if transition.after is not None:
        parts.append(f"after {transition.after}")
    if transition.guard is not None:
        parts.append(f"[{guard_summary(transition.guard.source)}]")
    return " ".join(parts)


def _localised(label: Any, language: str) -> str | None:
    if isinstance(label, dict):
        text = label.get(language) or label.get("en") or next(iter(label.values()), None)
        return str(text) if text else None
    return str(label) if label else None


def state_label(workflow: WorkflowDef, state: str, language: str = "en") -> str:
    """A state's label in `language` (else English, else any), else its id."""
    return _localised(workflow.states[state].label, language) or state


# ----------------------------------------------------------------------------- Mermaid


def _mermaid_text(text: str) -> str:
    # A colon ends a Mermaid transition label and # starts an entity: keep them out.
    return text.replace(":", "∶").replace("#", "♯").replace(";", ",")


def workflow_mermaid(workflow: WorkflowDef) -> str:
    """The workflow as a Mermaid `stateDiagram-v2`."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for category in STATE_CATEGORIES:
        fill, stroke = CATEGORY_STYLE[category]
        lines.append(f"    classDef cat_{category} fill:{fill},stroke:{stroke},color:#000")
    for state_id in workflow.states:
        label = _mermaid_text(state_label(workflow, state_id))
        lines.append(f'    state "{label}" as {state_id}')
    lines.append(f"    [*] --> {workflow.initial}")
    for transition in workflow.transitions:
        for source in sorted(transition.sources):
            label = _mermaid_text(transition_label(transition))
            lines.append(f"    {source} --> {transition.target}: {label}")
    for state_id, state in workflow.states.items():
        if state.category == StateCategory.CLOSED:
            lines.append(f"    {state_id} --> [*]")
    for category in STATE_CATEGORIES:
        members = [s for s, d in workflow.states.items() if d.category == category]
        if members:
            lines.append(f"    class {','.join(members)} cat_{category}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- DOT


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def workflow_dot(workflow: WorkflowDef) -> str:
    """The workflow in Graphviz's DOT language (`dot -Tsvg` draws it)."""
    lines = [
        f'digraph "{_dot_text(workflow.id)}" {{',
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
        '  start [shape=circle, label="", width=0.2, style=filled, fillcolor=black];',
    ]
    for category in STATE_CATEGORIES:
        members = [s for s, d in workflow.states.items() if d.category == category]
        if not members:
            continue
        fill, stroke = CATEGORY_STYLE[category]
        lines.append(f"  subgraph cluster_{category} {{")
        lines.append(f'    label="{category}"; style=dashed; color="{stroke}";')
        for state_id in members:
            label = _dot_text(state_label(workflow, state_id))
            lines.append(f'    {state_id} [label="{label}", fillcolor="{fill}", color="{stroke}"];')
        lines.append("  }")
    lines.append(f"  start -> {workflow.initial};")
    for transition in workflow.transitions:
        for source in sorted(transition.sources):
            label = _dot_text(transition_label(transition))
            lines.append(f'  {source} -> {transition.target} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- SVG

STATE_FONT = 13.0
LABEL_FONT = 11.0
LINE = 1.3  # line height, in font sizes
STATE_HEIGHT = 46.0
STATE_PAD = 14.0
STATE_GAP = 22.0  # between two boxes of a column
WAYPOINT_HEIGHT = 10.0
LABEL_PAD = 4.0
LABEL_GAP = 6.0  # between two labels of a gap
GAP_MARGIN = 18.0  # between a label and the columns either side
MIN_GAP = 70.0
MARGIN = 16.0
START_SPACE = 34.0  # the start mark and its arrow, left of the first column
SWEEPS = 8
# Latin text in the reader's sans-serif; Chinese in a CJK face where one is installed.
FONTS = "system-ui, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"


def text_width(text: str, size: float) -> float:
    """An estimate of `text`'s width in a sans-serif font of `size` pixels: a CJK (wide)
    character is one em, Latin letters about half."""
    width = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            width += 1.0
        elif char in "il.,:;|!'`ijt()[] ":
            width += 0.32
        elif char.isupper() or char in "mwMW@%&":
            width += 0.72
        else:
            width += 0.56
    return width * size


@dataclass(slots=True)
class _Node:
    key: str  # a state id, or "~n" for a waypoint
    rank: int
    state: str | None
    lines: tuple[str, ...] = ()
    width: float = 0.0
    height: float = WAYPOINT_HEIGHT
    order: float = 0.0
    y: float = 0.0
    x: float = 0.0


@dataclass(slots=True)
class _Label:
    lines: tuple[str, ...]
    width: float
    height: float
    gap: int  # the gap right of column `gap`
    want: float = 0.0
    y: float = 0.0  # centre
    x: float = 0.0  # left edge


@dataclass(slots=True)
class _Edge:
    index: int
    transition: TransitionDef
    source: str
    target: str
    kind: str  # "forward", "back" or "same"
    chain: list[str]  # node keys, source to target
    label: _Label


def _ranks(workflow: WorkflowDef) -> dict[str, int]:
    """Each state's column: the transitions that lead back to a state met earlier on a
    depth-first walk from the initial state are set aside (they are drawn as back edges);
    over the rest, a state sits one column right of the furthest state leading to it."""
    successors: dict[str, list[str]] = {state: [] for state in workflow.states}
    for transition in workflow.transitions:
        for source in sorted(transition.sources):
            targets = successors.get(source)
            known = targets is not None and transition.target in successors
            if known and targets is not None and transition.target not in targets:
                targets.append(transition.target)
    roots = [workflow.initial] if workflow.initial in successors else []
    roots += list(successors)
    status: dict[str, int] = {}  # 1: on the walk's path, 2: done
    finished: list[str] = []
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in status:
            continue
        status[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            state, following = stack[-1]
            target = next(following, None)
            if target is None:
                stack.pop()
                status[state] = 2
                finished.append(state)
            elif target not in status:
                status[target] = 1
                stack.append((target, iter(successors[target])))
            elif status[target] == 1:
                back.add((state, target))
    rank = dict.fromkeys(successors, 0)
    for state in reversed(finished):  # a topological order of the forward transitions
        for target in successors[state]:
            if (state, target) not in back and target != state:
                rank[target] = max(rank[target], rank[state] + 1)
    return rank


def _edge_lines(transition: TransitionDef, language: str) -> tuple[str, ...]:
    label = _localised(transition.label, language)
    first = f"{label} · {transition.id}" if label and label != transition.id else transition.id
    second = f"{_word('by', language)} {', '.join(_roles(transition))}"
    if transition.after is not None:
        second += f" · {_word('after', language)} {transition.after}"
    lines = [first, second]
    if transition.guard is not None:
        lines.append(f"{_word('when', language)} {guard_summary(transition.guard.source)}")
    return tuple(lines)


def _isotonic(wants: Sequence[float], sizes: Sequence[float], gap: float) -> list[float]:
    """Centres as close to `wants` (least squares) as keeping the order, with `gap`
    between consecutive items of height `sizes`, allows (pool adjacent violators)."""
    if not wants:
        return []
    offsets = [0.0]
    for i in range(1, len(sizes)):
        offsets.append(offsets[-1] + sizes[i - 1] / 2 + gap + sizes[i] / 2)
    blocks: list[list[float]] = []  # [mean, weight]
    for want, offset in zip(wants, offsets, strict=True):
        blocks.append([want - offset, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight = blocks.pop()
            before = blocks[-1]
            total = before[1] + weight
            before[0] = (before[0] * before[1] + mean * weight) / total
            before[1] = total
    values: list[float] = []
    for mean, weight in blocks:
        values.extend([mean] * int(weight))
    return [value + offset for value, offset in zip(values, offsets, strict=True)]


class _Layout:
    def __init__(self, workflow: WorkflowDef, language: str) -> None:
        self.workflow = workflow
        self.language = language
        rank = _ranks(workflow)
        self.columns = max(rank.values(), default=0) + 1
        self.nodes: dict[str, _Node] = {}
        for state in workflow.states:
            text = state_label(workflow, state, language)
            lines = (text, state) if text != state else (text,)
            width = max(text_width(text, STATE_FONT), text_width(state, LABEL_FONT))
            self.nodes[state] = _Node(
                state, rank[state], state, lines, width + 2 * STATE_PAD, STATE_HEIGHT
            )
        self.edges: list[_Edge] = []
        for transition in workflow.transitions:
            for source in sorted(transition.sources):
                if source in rank and transition.target in rank:
                    self._add_edge(transition, source, transition.target, rank)
        self.layers: list[list[_Node]] = [[] for _ in range(self.columns)]
        for node in self.nodes.values():
            self.layers[node.rank].append(node)
        for layer in self.layers:
            for position, node in enumerate(layer):
                node.order = position

    def _add_edge(self, transition: TransitionDef, source: str, target: str, rank: Any) -> None:
        low, high = rank[source], rank[target]
        kind = "forward" if high > low else "back" if high < low else "same"
        chain = [source]
        step = 1 if high > low else -1
        for r in range(low + step, high, step):  # a waypoint in each column crossed
            key = f"~{len(self.nodes)}"
            self.nodes[key] = _Node(key, r, None)
            chain.append(key)
        chain.append(target)
        lines = _edge_lines(transition, self.language)
        width = max(text_width(line, LABEL_FONT) for line in lines) + 2 * LABEL_PAD
        height = len(lines) * LABEL_FONT * LINE + 2 * LABEL_PAD
        gap = low - 1 if kind == "back" else low
        label = _Label(lines, width, height, gap)
        edge = _Edge(len(self.edges), transition, source, target, kind, chain, label)
        self.edges.append(edge)

    # -- ordering

    def _neighbours(self) -> dict[str, list[str]]:
        """Each node's neighbours in the columns either side (layer graph)."""
        links: dict[str, list[str]] = {key: [] for key in self.nodes}
        for edge in self.edges:
            for a, b in zip(edge.chain, edge.chain[1:], strict=False):
                if a != b and self.nodes[a].rank != self.nodes[b].rank:
                    links[a].append(b)
                    links[b].append(a)
        return links

    def _crossings(self, links: Mapping[str, list[str]]) -> int:
        count = 0
        for r in range(self.columns - 1):
            pairs = sorted(
                (node.order, self.nodes[other].order)
                for node in self.layers[r]
                for other in links[node.key]
                if self.nodes[other].rank == r + 1
            )
            for i, (a1, b1) in enumerate(pairs):
                for a2, b2 in pairs[i + 1 :]:
                    if a1 < a2 and b1 > b2:
                        count += 1
        return count

    def order(self) -> None:
        links = self._neighbours()
        best = self._crossings(links)
        best_orders = {key: node.order for key, node in self.nodes.items()}
        for sweep in range(SWEEPS):
            down = sweep % 2 == 0
            ranks = range(1, self.columns) if down else range(self.columns - 2, -1, -1)
            for r in ranks:
                side = r - 1 if down else r + 1
                layer = self.layers[r]

                def centre(node: _Node, side: int = side) -> float:
                    near = [
                        self.nodes[o].order for o in links[node.key] if self.nodes[o].rank == side
                    ]
                    return sum(near) / len(near) if near else node.order

                layer.sort(key=lambda node: (centre(node), node.order))
                for position, node in enumerate(layer):
                    node.order = position
            crossings = self._crossings(links)
            if crossings < best:
                best = crossings
                best_orders = {key: node.order for key, node in self.nodes.items()}
        for key, node in self.nodes.items():
            node.order = best_orders[key]
        for layer in self.layers:
            layer.sort(key=lambda node: node.order)

    # -- placing

    def place(self) -> None:
        links = self._neighbours()
        for layer in self.layers:  # first: stacked from the top
            wants = [0.0] * len(layer)
            ys = _isotonic(wants, [n.height for n in layer], STATE_GAP)
            for node, y in zip(layer, ys, strict=True):
                node.y = y - ys[0] if ys else y
        for sweep in range(6):
            ranks = list(range(self.columns))
            for r in ranks if sweep % 2 == 0 else ranks[::-1]:
                layer = self.layers[r]
                wants = []
                for node in layer:
                    near = [self.nodes[o].y for o in links[node.key]]
                    wants.append(sum(near) / len(near) if near else node.y)
                ys = _isotonic(wants, [n.height for n in layer], STATE_GAP)
                for node, y in zip(layer, ys, strict=True):
                    node.y = y
        # Columns and the gaps between them, each as wide as its widest box or label.
        gaps: list[list[_Label]] = [[] for _ in range(self.columns)]
        for edge in self.edges:
            gaps[edge.label.gap].append(edge.label)
            edge.label.want = self._label_want(edge)
        x = MARGIN + START_SPACE
        self.column_x: list[float] = []
        self.column_width: list[float] = []
        self.gap_x: list[float] = []
        for r in range(self.columns):
            width = max((n.width for n in self.layers[r]), default=0.0)
            self.column_x.append(x)
            self.column_width.append(width)
            for node in self.layers[r]:
                node.x = x + (width - node.width) / 2 if node.state else x + width / 2
            x += width
            labels = gaps[r]
            gap_width = max([MIN_GAP] + [lab.width + 2 * GAP_MARGIN for lab in labels])
            if r == self.columns - 1 and not labels:
                gap_width = 0.0
            self.gap_x.append(x)
            for lab in labels:
                lab.x = x + (gap_width - lab.width) / 2
            x += gap_width
        self.width = x + MARGIN
        for labels in gaps:
            labels.sort(key=lambda lab: lab.want)
            ys = _isotonic([lab.want for lab in labels], [lab.height for lab in labels], LABEL_GAP)
            for lab, y in zip(labels, ys, strict=True):
                lab.y = y
        # Shift everything so the topmost box or label starts at the margin.
        tops = [n.y - n.height / 2 for n in self.nodes.values()]
        tops += [e.label.y - e.label.height / 2 for e in self.edges]
        bottoms = [n.y + n.height / 2 for n in self.nodes.values()]
        bottoms += [e.label.y + e.label.height / 2 for e in self.edges]
        shift = MARGIN - min(tops, default=0.0)
        for node in self.nodes.values():
            node.y += shift
        for edge in self.edges:
            edge.label.y += shift
        self.legend_y = max(bottoms, default=0.0) + shift + 2 * MARGIN
        self.height = self.legend_y + MARGIN

    def _label_want(self, edge: _Edge) -> float:
        return (self.nodes[edge.chain[0]].y + self.nodes[edge.chain[1]].y) / 2


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _curve(points: Sequence[tuple[float, float]]) -> str:
    """A smooth path through `points`, leaving and entering each horizontally."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{_f(x0)},{_f(y0)}"]
    for x1, y1 in rest:
        dx = (x1 - x0) / 2
        parts.append(f"C{_f(x0 + dx)},{_f(y0)} {_f(x1 - dx)},{_f(y1)} {_f(x1)},{_f(y1)}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _ports(layout: _Layout) -> dict[tuple[int, str], float]:
    """Where each edge meets its state boxes: the ends on one side of a box are spread
    over its height in the order of the labels they lead to, so they do not bunch."""
    sides: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for edge in layout.edges:
        out_side = "right" if edge.kind != "back" else "left"
        in_side = "left" if edge.kind == "forward" else "right"
        after_source = edge.label.y
        waypoints = len(edge.chain) > 2
        before_target = layout.nodes[edge.chain[-2]].y if waypoints else edge.label.y
        sides.setdefault((edge.source, out_side), []).append((after_source, edge.index, "out"))
        sides.setdefault((edge.target, in_side), []).append((before_target, edge.index, "in"))
    ports: dict[tuple[int, str], float] = {}
    for (state, _side), ends in sides.items():
        node = layout.nodes[state]
        ends.sort()
        span = node.height * 0.6
        for i, (_y, index, end) in enumerate(ends):
            step = span / len(ends)
            ports[(index, end)] = node.y - span / 2 + step * (i + 0.5)
    return ports


def _text(x: float, y: float, text: str, size: float, extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}"{extra}>{escape(text)}</text>'


def workflow_svg(workflow: WorkflowDef, language: str = "en") -> str:
    """The workflow's state machine drawn as a self-contained SVG document (a string),
    labelled in `language` ("en" or "zh-CN"; a label missing in it falls back to English).
    """
    layout = _Layout(workflow, language)
    layout.order()
    layout.place()
    ports = _ports(layout)
    mark = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in workflow.id)
    arrow = f"gd-arrow-{mark}"
    name = _localised(workflow.name, language) or workflow.id
    title = f"{_word('workflow', language)}: {name} ({workflow.id})"
    desc_parts = [
        f"{len(workflow.states)} {_word('states', language)}, "
        f"{len(layout.edges)} {_word('transitions', language)}; "
        f"{_word('initial', language)}: {state_label(workflow, workflow.initial, language)}."
    ]
    for edge in layout.edges:
        desc_parts.append(
            f"{state_label(workflow, edge.source, language)} → "
            f"{state_label(workflow, edge.target, language)}: "
            + " · ".join(_edge_lines(edge.transition, language))
            + "."
        )
    width, height = layout.width, layout.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'aria-labelledby="{arrow}-title {arrow}-desc" class="gd-workflow-graph" '
        f"font-family={quoteattr(FONTS)} data-workflow={quoteattr(workflow.id)}>",
        f'<title id="{arrow}-title">{escape(title)}</title>',
        f'<desc id="{arrow}-desc">{escape(" ".join(desc_parts))}</desc>',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#37474f"/></marker></defs>',
        f'<rect width="{_f(width)}" height="{_f(height)}" fill="#ffffff"/>',
    ]
    # The start mark.
    initial = layout.nodes.get(workflow.initial)
    if initial is not None:
        cx = MARGIN + 6
        out.append(
            f'<g class="start"><circle cx="{_f(cx)}" cy="{_f(initial.y)}" r="6" fill="#263238"/>'
            f'<path d="M{_f(cx + 6)},{_f(initial.y)} L{_f(initial.x)},{_f(initial.y)}" '
            f'stroke="#37474f" stroke-width="1.4" fill="none" marker-end="url(#{arrow})"/></g>'
        )
    # Transitions: the paths first, their labels over them.
    paths, labels = [], []
    for edge in layout.edges:
        lab = edge.label
        source, target = layout.nodes[edge.source], layout.nodes[edge.target]
        start_y, end_y = ports[(edge.index, "out")], ports[(edge.index, "in")]
        if edge.kind == "forward":
            points = [
                (source.x + source.width, start_y),
                (lab.x, lab.y),
                (lab.x + lab.width, lab.y),
            ]
            for key in edge.chain[1:-1]:
                waypoint = layout.nodes[key]
                left = layout.column_x[waypoint.rank]
                points += [
                    (left, waypoint.y),
                    (left + layout.column_width[waypoint.rank], waypoint.y),
                ]
            points.append((target.x, end_y))
            d = _curve(points)
        elif edge.kind == "back":
            points = [(source.x, start_y), (lab.x + lab.width, lab.y), (lab.x, lab.y)]
            for key in edge.chain[1:-1]:
                waypoint = layout.nodes[key]
                left = layout.column_x[waypoint.rank]
                points += [
                    (left + layout.column_width[waypoint.rank], waypoint.y),
                    (left, waypoint.y),
                ]
            points.append((target.x + target.width, end_y))
            d = _curve(points)
        else:  # within a column: out to the label on the right and back
            x0, x1 = source.x + source.width, target.x + target.width
            edge_x = lab.x
            d = (
                f"M{_f(x0)},{_f(start_y)} C{_f(edge_x)},{_f(start_y)} {_f(edge_x)},{_f(start_y)} "
                f"{_f(edge_x)},{_f(lab.y)} C{_f(edge_x)},{_f(end_y)} {_f(edge_x)},{_f(end_y)} "
                f"{_f(x1)},{_f(end_y)}"
            )
        attrs = (
            f" data-transition={quoteattr(edge.transition.id)} data-source={quoteattr(edge.source)}"
            f" data-target={quoteattr(edge.target)}"
        )
        dash = ' stroke-dasharray="5,3"' if edge.kind != "forward" else ""
        paths.append(
            f'<g class="transition {edge.kind}"{attrs}><path d="{d}" fill="none" '
            f'stroke="#37474f" stroke-width="1.3"{dash} marker-end="url(#{arrow})"/></g>'
        )
        top = lab.y - lab.height / 2
        label = [
            f'<g class="transition-label"{attrs}>',
            f'<rect x="{_f(lab.x)}" y="{_f(top)}" width="{_f(lab.width)}" '
            f'height="{_f(lab.height)}" rx="3" fill="#ffffff" fill-opacity="0.92" '
            'stroke="#b0bec5" stroke-width="0.6"/>',
        ]
        for i, line in enumerate(lab.lines):
            baseline = top + LABEL_PAD + LABEL_FONT * (LINE * i + 1)
            weight = ' font-weight="bold"' if i == 0 else ' fill="#455a64"'
            label.append(_text(lab.x + LABEL_PAD, baseline, line, LABEL_FONT, weight))
        label.append("</g>")
        labels.append("".join(label))
    out.extend(paths)
    # States.
    for state_id, definition in workflow.states.items():
        node = layout.nodes[state_id]
        fill, stroke = CATEGORY_STYLE.get(definition.category, ("#ffffff", "#37474f"))
        top = node.y - node.height / 2
        double = definition.category == StateCategory.CLOSED
        group = [
            f'<g class="state cat_{escape(str(definition.category))}" '
            f"data-state={quoteattr(state_id)}>",
            f"<title>{escape(node.lines[0])} ({escape(state_id)}, "
            f"{escape(_word(str(definition.category), language))})</title>",
            f'<rect x="{_f(node.x)}" y="{_f(top)}" width="{_f(node.width)}" '
            f'height="{_f(node.height)}" rx="8" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{"2.5" if double else "1.5"}"/>',
        ]
        centre = node.x + node.width / 2
        if len(node.lines) == 2:
            group.append(
                _text(centre, node.y - 2, node.lines[0], STATE_FONT, ' text-anchor="middle"')
            )
            group.append(
                _text(
                    centre,
                    node.y + LABEL_FONT + 1,
                    node.lines[1],
                    LABEL_FONT,
                    ' text-anchor="middle" fill="#546e7a" font-family="monospace"',
                )
            )
        else:
            group.append(
                _text(
                    centre,
                    node.y + STATE_FONT * 0.35,
                    node.lines[0],
                    STATE_FONT,
                    ' text-anchor="middle"',
                )
            )
        group.append("</g>")
        out.append("".join(group))
    out.extend(labels)
    # The legend: one swatch per category the workflow uses.
    x = MARGIN
    legend = ['<g class="legend">']
    for category in STATE_CATEGORIES:
        if not any(d.category == category for d in workflow.states.values()):
            continue
        fill, stroke = CATEGORY_STYLE[category]
        word = _word(str(category), language)
        legend.append(
            f'<rect x="{_f(x)}" y="{_f(layout.legend_y - 10)}" width="14" height="12" rx="3" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )
        legend.append(_text(x + 19, layout.legend_y, word, LABEL_FONT))
        x += 19 + text_width(word, LABEL_FONT) + 14
    legend.append("</g>")
    out.extend(legend)
    if x + MARGIN > width:  # a legend wider than a tiny drawing: widen the canvas
        grown = _f(x + MARGIN)
        out[0] = (
            out[0]
            .replace(f'width="{_f(width)}"', f'width="{grown}"', 1)
            .replace(f'viewBox="0 0 {_f(width)} ', f'viewBox="0 0 {grown} ', 1)
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
