"""A report's rows in words, and as CSV: what the dashboard, the API's CSV and the
mailed reports show (one place, so the three agree).

Group values become the label of the type, team, SLA policy, state or option they
name, or the word of a priority or state category, in the reader's language; ids and
dates stay as they are. A list measure's rows (key, title, value) are kept as they
are. The CSV is UTF-8 with a BOM (so Excel reads Chinese right) and a header row.

The words of priorities and state categories are those of the UI catalogue
(`ui/catalogue.py`, `ui/catalogue_reports.py`); `tests/ui/reports` checks they agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from gongdan.bundle.compile_reports import GroupDef, ReportDef
from gongdan.bundle.compiled import Bundle
from gongdan.engine.reads.reports import ReportTable

__all__ = ["WORDS", "localised", "report_csv", "row_words", "value_text"]

WORDS: dict[str, dict[str, str]] = {
    "none": {"en": "(none)", "zh-CN": "（无）"},
    "priority.low": {"en": "Low", "zh-CN": "低"},
    "priority.normal": {"en": "Normal", "zh-CN": "普通"},
    "priority.high": {"en": "High", "zh-CN": "高"},
    "priority.urgent": {"en": "Urgent", "zh-CN": "紧急"},
    "state_category.new": {"en": "New", "zh-CN": "新建"},
    "state_category.open": {"en": "Open", "zh-CN": "处理中"},
    "state_category.pending": {"en": "Pending", "zh-CN": "挂起"},
    "state_category.resolved": {"en": "Resolved", "zh-CN": "已解决"},
    "state_category.closed": {"en": "Closed", "zh-CN": "已关闭"},
}


def localised(label: Any, language: str) -> str:
    """A config label (text or {locale: text}) in `language`, falling back to English."""
    if isinstance(label, str) or label is None:
        return label or ""
    if isinstance(label, Mapping):
        return str(label.get(language) or label.get("en") or next(iter(label.values()), ""))
    return str(label)


def _word(key: str, lang: str, default: str) -> str:
    entry = WORDS.get(key)
    return localised(entry, lang) if entry else default


def value_text(bundle: Bundle, report: ReportDef, group: GroupDef, value: Any, lang: str) -> str:
    """A group value in words (see the module doc)."""
    if value is None:
        return _word("none", lang, "")
    text = str(value)
    if group.kind == "builtin":
        if group.key == "type" and (kind := bundle.ticket_types.get(text)) is not None:
            return localised(kind.name, lang)
        if group.key == "team" and (team := bundle.teams.get(text)) is not None:
            return localised(team.name, lang)
        if group.key == "sla_policy" and (policy := bundle.sla_policy(text)) is not None:
            return localised(policy.name, lang) or text
        if group.key in ("priority", "state_category"):
            return _word(f"{group.key}.{text}", lang, text)
        if group.key == "state":
            for workflow in bundle.workflows.values():
                if (state := workflow.states.get(text)) is not None and state.label:
                    return localised(state.label, lang)
        return text
    if group.of_field:
        for type_id in report.types or tuple(bundle.ticket_types):
            field = bundle.ticket_types[type_id].field_map.get(group.key)
            for option in field.options if field is not None else ():
                if option.value == text:
                    return localised(option.label, lang)
    return text


def row_words(bundle: Bundle, report: ReportDef, row: Iterable[Any], lang: str) -> list[Any]:
    """One row with its group values in words; the measure (last) as it is."""
    *groups, value = row
    if report.measure.lists_tickets:
        return [*("" if g is None else g for g in groups), value]
    pairs = zip(report.group_by, groups, strict=True)
    return [*(value_text(bundle, report, g, v, lang) for g, v in pairs), value]


def report_csv(bundle: Bundle, table: ReportTable, lang: str) -> bytes:
    """The report as CSV: UTF-8 with a BOM, a header row of column labels in `lang`,
    group values in words, no value as an empty cell."""
    report = bundle.reports[table.id]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([localised(c.label, lang) for c in table.columns])
    for row in table.rows:
        *words, value = row_words(bundle, report, row, lang)
        writer.writerow([*words, "" if value is None else value])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
