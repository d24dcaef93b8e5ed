"""Compile `kind: Report` documents: the dashboard's figures, declared in YAML.

A report is one measure over the tickets its `filter` keeps, grouped by at most two
keys (DESIGN.md, "Reports"). Everything runs in the database, so the filter obeys the
same rule as a view's `when` (`compile_views.sql_kinds`: every test expressible in
SQL, refused here with its place otherwise). A grouped field must be a select or
multiselect (a field with options, held as text or a list) of the report's ticket
types, `avg` a field held as a number: read from the field type's shape, never from
its name. The report's types are those its filter names at the top (`type: …`), or
every type.

Pure: no SQLAlchemy. `gongdan.engine.reads.reports` turns a `ReportDef` into one query.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gongdan.bundle.compile_views import column_kind, sql_kinds
from gongdan.bundle.context import Catalog, Entry, Reporter
from gongdan.bundle.report_schema import (
    GROUP_BUILTINS,
    LIST_LIMIT,
    LIST_MEASURES,
    MAIL_DAYS,
    TIME_COLUMNS,
)
from gongdan.forms.fields import FieldDef
from gongdan.rules.conditions import Condition
from gongdan.rules.sla import SLAPolicy

__all__ = ["GroupDef", "MailDef", "MeasureDef", "ReportDef", "compile_reports"]

_BUILTIN_LABELS: dict[str, dict[str, str]] = {
    "age": {"en": "Age", "zh-CN": "已存在时长"},
    "csat_rating": {"en": "Rating", "zh-CN": "评分"},
    "assignee": {"en": "Assignee", "zh-CN": "处理人"},
    "priority": {"en": "Priority", "zh-CN": "优先级"},
    "sla_policy": {"en": "SLA policy", "zh-CN": "SLA 策略"},
    "state": {"en": "State", "zh-CN": "状态"},
    "state_category": {"en": "State category", "zh-CN": "状态类别"},
    "team": {"en": "Team", "zh-CN": "团队"},
    "type": {"en": "Type", "zh-CN": "类型"},
    "created_at": {"en": "Created", "zh-CN": "创建时间"},
    "resolved_at": {"en": "Resolved", "zh-CN": "解决时间"},
}
_BUCKET_LABELS = {
    "day": {"en": "day", "zh-CN": "日"},
    "week": {"en": "week", "zh-CN": "周"},
    "month": {"en": "month", "zh-CN": "月"},
}
_TARGET_LABELS = {
    "first_response": {"en": "first response", "zh-CN": "首次响应"},
    "next_response": {"en": "next response", "zh-CN": "后续响应"},
    "resolution": {"en": "resolution", "zh-CN": "解决"},
}


@dataclass(frozen=True, slots=True)
class GroupDef:
    """One group-by key. `kind`: `builtin`, `time` (a bucket of `created_at` or
    `resolved_at`), `text` (a select field) or `list` (a multiselect: a ticket counts
    in the group of each of its values)."""

    key: str
    kind: str
    label: Any
    bucket: str | None = None

    @property
    def id(self) -> str:
        return f"{self.key}_{self.bucket}" if self.bucket else self.key

    @property
    def of_field(self) -> bool:
        """Whether the group is a custom field's values (its options' labels name them)."""
        return self.kind not in ("builtin", "time")


@dataclass(frozen=True, slots=True)
class MeasureDef:
    """What is measured: `count`, `csat` (average rating of answered surveys),
    `csat_response_rate` (% of the surveys sent that were answered), `median`
    or `p90` of a duration in business hours, `sla_attainment` (% of a target's clocks
    met in time, of those met or breached), `avg` of a number field."""

    kind: str
    of: str | None = None
    field_label: Any = None

    @property
    def id(self) -> str:
        return f"{self.kind}_{self.of}" if self.of else self.kind

    @property
    def lists_tickets(self) -> bool:
        """Whether the rows are tickets (key, title, value), not groups."""
        return self.kind in LIST_MEASURES

    @property
    def label(self) -> dict[str, str]:
        if self.kind == "lowest_rated":
            return {"en": "Rating (1-5)", "zh-CN": "评分 (1-5)"}
        if self.kind == "breached":
            target = _TARGET_LABELS[self.of or ""]
            return {
                "en": f"SLA {target['en']} breached at (UTC)",
                "zh-CN": f"SLA {target['zh-CN']}超时时间 (UTC)",
            }
        if self.kind == "count":
            return {"en": "Tickets", "zh-CN": "工单数"}
        if self.kind == "csat":
            return {"en": "Satisfaction (1-5)", "zh-CN": "满意度 (1-5)"}
        if self.kind == "csat_response_rate":
            return {"en": "Surveys answered (%)", "zh-CN": "问卷回复率 (%)"}
        if self.kind == "avg":
            name = self.field_label or {}
            en = name.get("en", self.of) if isinstance(name, Mapping) else str(name)
            zh = name.get("zh-CN", en) if isinstance(name, Mapping) else str(name)
            return {"en": f"Average {en}", "zh-CN": f"{zh}平均值"}
        target = _TARGET_LABELS[self.of or ""]
        if self.kind == "sla_attainment":
            return {
                "en": f"SLA {target['en']} met (%)",
                "zh-CN": f"SLA {target['zh-CN']}达成率 (%)",
            }
        which = {"median": ("Median", "中位数"), "p90": ("P90", "P90")}[self.kind]
        return {
            "en": f"{which[0]} {target['en']} (business hours)",
            "zh-CN": f"{target['zh-CN']}{which[1]} (工作小时)",
        }


@dataclass(frozen=True, slots=True)
class MailDef:
    """When and to whom a report is mailed (`mail: {every: monday 09:00, to: [...]}`),
    in the zone of the bundle's default calendar. `every`: `daily`, `weekdays`,
    `monthly` (the first of the month) or a weekday's name; `days`: the weekdays it
    is sent on (0 = Monday), empty for `monthly`."""

    every: str
    hour: int
    minute: int
    teams: tuple[str, ...]
    users: tuple[str, ...]

    @property
    def days(self) -> tuple[int, ...]:
        if self.every == "daily":
            return tuple(range(7))
        if self.every == "weekdays":
            return tuple(range(5))
        if self.every == "monthly":
            return ()
        return (MAIL_DAYS.index(self.every),)


# The columns a list measure's rows begin with (the ticket's key and title).
TICKET_COLUMNS = (
    ("key", {"en": "Ticket", "zh-CN": "工单"}),
    ("title", {"en": "Title", "zh-CN": "标题"}),
)


@dataclass(frozen=True, slots=True)
class ReportDef:
    """One compiled report, shown on the dashboard in the order declared."""

    id: str
    title: Any
    measure: MeasureDef
    group_by: tuple[GroupDef, ...]
    filter: Condition | None
    # How the database holds each key `filter` names (`compile_views.column_kind`).
    kinds: Mapping[str, str]
    chart: str
    # The ticket types the report is about (its filter's `type:`); empty: every type.
    types: tuple[str, ...]
    # Rows of a list measure (`breached`, `lowest_rated`).
    limit: int = LIST_LIMIT
    mail: MailDef | None = None

    @property
    def time_column(self) -> str:
        """The instant the period filters on: `resolved_at` when grouped by it."""
        for group in self.group_by:
            if group.kind == "time":
                return group.key
        return "created_at"


def compile_reports(
    entries: list[Entry],
    catalog: Catalog,
    type_fields: Mapping[str, Mapping[str, FieldDef]],
    field_types: Mapping[str, Collection[str]],
    policies: Collection[SLAPolicy],
    report: Reporter,
    declared: Collection[str] = (),
    teams: Collection[str] = (),
) -> dict[str, ReportDef]:
    """Compile every schema-valid Report, in the order declared; problems go to
    `report` with their place. `declared`: the ids of fields declared in error (a
    report naming one is not reported again); `teams`: the bundle's teams (a mailed
    report's `to: [{team: …}]`)."""
    reports: dict[str, ReportDef] = {}
    targets = {t for p in policies for t in p.targets}
    for entry in entries:
        compiled = _compile_report(
            entry, catalog, type_fields, field_types, targets, report, declared, teams
        )
        if compiled is not None:
            reports[entry.id] = compiled
    return reports


def _errors(report: Reporter) -> int:
    return len([i for i in report.issues if i.severity == "error"])


def _compile_report(
    entry: Entry,
    catalog: Catalog,
    type_fields: Mapping[str, Mapping[str, FieldDef]],
    field_types: Mapping[str, Collection[str]],
    targets: Collection[str],
    report: Reporter,
    declared: Collection[str],
    teams: Collection[str] = (),
) -> ReportDef | None:
    doc, data = entry.doc, entry.data
    before = _errors(report)
    source = data.get("filter")
    condition = report.condition(doc, ("filter",), source, catalog)
    kinds: dict[str, str] = {}
    if condition is not None:
        kinds = sql_kinds(doc, ("filter",), source, condition, field_types, report)
    types = _filter_types(source, type_fields)
    fields = {
        f.id: f for type_id in (types or tuple(type_fields)) for f in type_fields[type_id].values()
    }
    groups: list[GroupDef] = []
    for index, raw in enumerate(data.get("group_by", ())):
        group = _group(raw, fields, declared, field_types, report, doc, ("group_by", index))
        if group is not None:
            groups.append(group)
    measure = _measure(data["measure"], fields, declared, field_types, targets, report, doc)
    if measure is not None and measure.lists_tickets:
        if groups:
            report.error(
                doc, ("group_by",), f"'{measure.kind}' lists tickets: it takes no group_by"
            )
        if data.get("chart", "table") != "table":
            report.error(doc, ("chart",), f"'{measure.kind}' lists tickets: its chart is a table")
    elif "limit" in data:
        report.error(doc, ("limit",), "'limit' is for measures that list tickets")
    mail = _mail(data.get("mail"), teams, report, doc)
    if _errors(report) > before or measure is None:
        return None
    return ReportDef(
        id=entry.id,
        title=data["title"],
        measure=measure,
        group_by=tuple(groups),
        filter=condition,
        kinds=MappingProxyType(kinds),
        chart=data.get("chart", "table"),
        types=types,
        limit=int(data.get("limit", LIST_LIMIT)),
        mail=mail,
    )


def _mail(raw: Any, teams: Collection[str], report: Reporter, doc: Any) -> MailDef | None:
    """The schedule of a mailed report (the schema checked its shape), its teams known."""
    if not isinstance(raw, Mapping):
        return None
    every, _, at = str(raw["every"]).partition(" ")
    hour, minute = (int(part) for part in at.split(":"))
    team_ids: list[str] = []
    users: list[str] = []
    for index, item in enumerate(raw["to"]):
        if "team" in item:
            if item["team"] not in teams and not report.lenient:
                report.unknown(doc, ("mail", "to", index, "team"), "team", item["team"], teams)
            team_ids.append(item["team"])
        else:
            users.append(str(item["user"]).lower())
    return MailDef(every, hour, minute, tuple(team_ids), tuple(users))


def _filter_types(
    source: Any, type_fields: Mapping[str, Mapping[str, FieldDef]]
) -> tuple[str, ...]:
    """The types a filter keeps at its top (`type: a` or `type: [a, b]`), known ones only."""
    if not isinstance(source, Mapping):
        return ()
    named = source.get("type")
    if isinstance(named, str):
        named = [named]
    if not isinstance(named, list):
        return ()
    return tuple(t for t in named if isinstance(t, str) and t in type_fields)


def _group(
    raw: Any,
    fields: Mapping[str, FieldDef],
    declared: Collection[str],
    field_types: Mapping[str, Collection[str]],
    report: Reporter,
    doc: Any,
    path: tuple[str | int, ...],
) -> GroupDef | None:
    if isinstance(raw, Mapping):  # {created_at: week}: the schema allows one time column
        key, bucket = next(iter(raw.items()))
        label = {
            lang: f"{_BUILTIN_LABELS[key][lang]} ({_BUCKET_LABELS[bucket][lang]})"
            for lang in ("en", "zh-CN")
        }
        return GroupDef(key, "time", label, bucket)
    if raw in GROUP_BUILTINS:
        return GroupDef(raw, "builtin", _BUILTIN_LABELS[raw])
    if raw in TIME_COLUMNS:
        report.error(doc, path, f"group by '{raw}' needs a bucket: {{{raw}: day|week|month}}")
        return None
    field = fields.get(raw)
    if field is None and (report.lenient or raw in declared):
        return None  # declared by a type in error (reported there), or one unreadable
    if field is None:
        known = [*GROUP_BUILTINS, *(f.id for f in fields.values() if _is_choice(f, field_types))]
        report.unknown(doc, path, "group", raw, known)
        return None
    if not _is_choice(field, field_types):
        report.error(
            doc,
            path,
            f"cannot group by '{raw}': a report groups by a select or multiselect field, "
            f"and '{raw}' is a {field.type} field",
        )
        return None
    return GroupDef(raw, str(column_kind(raw, field_types)), field.label)


def _is_choice(field: FieldDef, field_types: Mapping[str, Collection[str]]) -> bool:
    return bool(field.options) and column_kind(field.id, field_types) in ("text", "list")


def _measure(
    raw: Any,
    fields: Mapping[str, FieldDef],
    declared: Collection[str],
    field_types: Mapping[str, Collection[str]],
    targets: Collection[str],
    report: Reporter,
    doc: Any,
) -> MeasureDef | None:
    if isinstance(raw, str):
        return MeasureDef(raw)
    kind, of = next(iter(raw.items()))
    path = ("measure", kind)
    if kind == "avg":
        field = fields.get(of)
        if field is None and (report.lenient or of in declared):
            return None  # declared by a type in error (reported there), or one unreadable
        if field is None:
            numbers = [f.id for f in fields.values() if column_kind(f.id, field_types) == "number"]
            report.unknown(doc, path, "field", of, numbers)
            return None
        if column_kind(of, field_types) != "number":
            report.error(
                doc, path, f"cannot average '{of}': it is a {field.type} field, not a number"
            )
            return None
        return MeasureDef(kind, of, field.label)
    if kind in ("sla_attainment", "breached") and of not in targets:
        report.error(doc, path, f"no SLA policy has a '{of}' target")
        return None
    return MeasureDef(kind, of)
