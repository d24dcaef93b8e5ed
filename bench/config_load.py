"""Benchmark: load a large config bundle, and evaluate compiled conditions.

Generates, in a temporary directory, a realistic bundle in the language of
`config/` (DESIGN.md, "Configuration"): 500 ticket types of 20 custom fields each
(text with patterns, selects, numbers, decimals, dates, booleans, users,
multiselects, attachments, `visible_if`/`required_if`, forms with sections, priority
rules), 100 workflows, 5 calendars (Asia/Shanghai with holiday ranges and make-up
workdays, America/New_York), 50 SLA policies with escalations, 200 routing rules in
four `RoutingRules` documents and 10 teams. Then it measures:

- `load_bundle(directory)`, the whole pipeline (read, parse YAML, JSON Schema,
  cross-references, compile): median, min and max of `--runs` runs, after one
  first run that also fills the process-wide caches (validators, time zones), each
  with the loader's parse cache emptied (every file parsed); then a reload after one
  file changed (the others taken from the parse cache);
- one run split by stage: reading, then, inside one `check_bundle_sources` run,
  `parse_documents`, `check_document_schema` (by kind) and the rest (references
  and compile);
- with `--profile`, a cProfile of one load (top 25 by cumulative time);
- one evaluation of a compiled condition (routing `when`, a field's `required_if`,
  and conditions compiled with `compile_condition`), in ns, median of 5 repeats.

Targets: a whole bundle loads in < 1.0 s; one condition evaluates in < 2 µs. The
exit status is 0 whether or not a target is met: this prints, it does not assert
(except that the generated bundle loads without errors).

    .venv/bin/python bench/config_load.py [--runs N] [--keep DIR] [--profile] [--seed N]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import itertools
import json
import os
import platform
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gongdan.bundle import loader
from gongdan.bundle.loader import PARSE_CACHE, check_bundle_sources, load_bundle, load_sources
from gongdan.bundle.validate import check_document_schema
from gongdan.bundle.yamlio import parse_documents
from gongdan.errors import ConfigError
from gongdan.rules.conditions import compile_condition

LOAD_TARGET_S = 1.0
CONDITION_TARGET_NS = 2_000

N_TICKET_TYPES = 500
N_WORKFLOWS = 100
N_SLA_POLICIES = 50
N_ROUTING_RULES = 200
N_TEAMS = 10

# --------------------------------------------------------------------------------------
# A small YAML writer in the style of config/: block mappings, short values in flow style.
# --------------------------------------------------------------------------------------

WIDTH = 100
# Lists whose items are always written as block mappings, as config/ writes them.
BLOCK_ITEMS = frozenset({"fields", "transitions", "rules", "create", "agent"})
_PLAIN = re.compile(
    r"[A-Za-z0-9_\u3000-\u9fff][A-Za-z0-9_.@/*%\-\u3000-\u9fff]*"
    r"(?: [A-Za-z0-9_.@/*%\-\u3000-\u9fff]+)*"
)
_NUMBER_LIKE = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and not _NUMBER_LIKE.fullmatch(text)
        and text.lower() not in _RESERVED
    ):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _block(value: Any, indent: int, key: str | None = None) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            head = f"{pad}{_scalar(k)}:"
            if not isinstance(v, dict | list):
                lines.append(f"{head} {_scalar(v)}")
                continue
            flow = _flow(v)
            has_mappings = isinstance(v, list) and any(isinstance(x, dict) for x in v)
            if not (k in BLOCK_ITEMS and has_mappings) and len(head) + 1 + len(flow) <= WIDTH:
                lines.append(f"{head} {flow}")
            else:
                lines.append(head)
                lines.extend(_block(v, indent + 2, k))
        return lines
    for item in value:
        if not isinstance(item, dict | list):
            lines.append(f"{pad}- {_scalar(item)}")
            continue
        flow = _flow(item)
        if key not in BLOCK_ITEMS and len(pad) + 2 + len(flow) <= WIDTH:
            lines.append(f"{pad}- {flow}")
            continue
        inner = _block(item, indent + 2)
        inner[0] = f"{pad}- {inner[0][indent + 2 :]}"
        lines.extend(inner)
    return lines


def dump_documents(documents: list[dict[str, Any]], comment: str) -> str:
    """One YAML file: the schema pointer and a comment, then documents separated by ---."""
    head = ["# yaml-language-server: $schema=../../schemas/gongdan.schema.json"]
    head += [f"# {line}" for line in comment.splitlines()]
    body: list[str] = []
    for document in documents:
        if len(documents) > 1:
            body.append("---")
        body.extend(_block(document, 0))
    return "\n".join(head + body) + "\n"


# --------------------------------------------------------------------------------------
# The generated bundle.
# --------------------------------------------------------------------------------------


def label(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-CN": zh}


# (id, key prefix part, English, Chinese)
DOMAINS = [
    ("it", "IT", "IT", "信息技术"),
    ("hr", "HR", "HR", "人力资源"),
    ("facilities", "FAC", "Facilities", "行政后勤"),
    ("finance", "FIN", "Finance", "财务"),
    ("procurement", "PRC", "Procurement", "采购"),
    ("security", "SEC", "Security", "信息安全"),
    ("legal", "LGL", "Legal", "法务"),
    ("sales", "SAL", "Sales", "销售"),
    ("factory", "FAB", "Factory", "工厂"),
    ("logistics", "LOG", "Logistics", "物流"),
]
NOUNS = [
    ("incident", "INC", "incident", "故障"),
    ("request", "REQ", "service request", "服务申请"),
    ("change", "CHG", "change", "变更"),
    ("access", "ACC", "access request", "权限申请"),
    ("purchase", "PUR", "purchase", "采购申请"),
    ("repair", "REP", "repair", "维修"),
    ("inquiry", "INQ", "inquiry", "咨询"),
    ("complaint", "CMP", "complaint", "投诉"),
    ("onboarding", "ONB", "onboarding", "入职"),
    ("audit", "AUD", "audit finding", "审计发现"),
]
SITES = [
    ("sh", "Shanghai", "上海"),
    ("sz", "Shenzhen", "深圳"),
    ("bj", "Beijing", "北京"),
    ("ny", "New York", "纽约"),
    ("cd", "Chengdu", "成都"),
]
CATEGORY_WORDS = [
    ("hardware", "Hardware", "硬件"),
    ("software", "Software", "软件"),
    ("network", "Network", "网络"),
    ("account", "Account", "账号"),
    ("data", "Data", "数据"),
    ("billing", "Billing", "账单"),
    ("contract", "Contract", "合同"),
    ("shipment", "Shipment", "发货"),
    ("quality", "Quality", "质量"),
    ("safety", "Safety", "安全"),
    ("policy", "Policy", "制度"),
    ("other", "Other", "其他"),
]
RESOLUTIONS = [
    ("fixed", "Fixed", "已修复"),
    ("workaround", "Workaround provided", "提供临时方案"),
    ("replaced", "Replaced", "已更换"),
    ("user_guidance", "User guidance", "用户指导"),
    ("no_fault_found", "No fault found", "未发现问题"),
    ("duplicate", "Duplicate", "重复工单"),
]
PATTERNS = [
    "^[A-Z0-9-]{6,20}$",
    "^[A-Z]{2,4}-[0-9]{4,8}$",
    "^PO[0-9]{8}$",
    "^[0-9]{4}-[0-9]{6}$",
    "^(CN|US)[0-9]{6,10}$",
    "^[A-Z][A-Z0-9]{2,5}/[0-9]{1,6}$",
]
TEAMS = [
    ("service_desk", "Service desk", "服务台"),
    ("field_service", "Field service", "现场服务"),
    ("access_admins", "Access administrators", "账号权限管理组"),
    ("hr_services", "HR services", "人事服务"),
    ("facilities_crew", "Facilities crew", "后勤保障"),
    ("finance_ops", "Finance operations", "财务运营"),
    ("procurement_desk", "Procurement desk", "采购台"),
    ("security_ops", "Security operations", "安全运营"),
    ("customer_care", "Customer care", "客户关怀"),
    ("escalation", "Escalation", "升级处理组"),
]
SKILLS = ["hardware", "software", "network", "printers", "contracts", "payroll", "audit",
          "english", "wechat", "smt", "forklift", "vip"]  # fmt: skip
STRATEGIES = ["round_robin", "least_loaded", "skills", "manual"]
SURNAMES = ["li", "wang", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu"]
GIVEN = ["wei", "fang", "na", "min", "jing", "lei", "qiang", "li", "jun", "yan", "tao", "ming"]


def type_id(d: int, n: int, s: int) -> str:
    return f"{DOMAINS[d][0]}_{NOUNS[n][0]}_{SITES[s][0]}"


def workflow_id(d: int, n: int) -> str:
    """Each workflow serves the five site variants of one domain and kind of ticket."""
    return f"{DOMAINS[d][0]}_{NOUNS[n][0]}_flow"


def categories_of(d: int, n: int) -> list[tuple[str, str, str]]:
    start = (d * 3 + n) % len(CATEGORY_WORDS)
    count = 4 + (d + n) % 3
    return [CATEGORY_WORDS[(start + i) % len(CATEGORY_WORDS)] for i in range(count)]


def options(words: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"value": v, "label": label(en, zh)} for v, en, zh in words]


def ticket_type(d: int, n: int, s: int, rng: random.Random) -> dict[str, Any]:
    dom, dom_key, dom_en, dom_zh = DOMAINS[d]
    noun, noun_key, noun_en, noun_zh = NOUNS[n]
    site, site_en, site_zh = SITES[s]
    p = f"{dom}_{noun}"  # fields particular to this kind of ticket (all sites)
    cats = categories_of(d, n)
    first_cat, second_cat = cats[0][0], cats[1][0]
    components = [(f"part_{i}", f"Part {i}", f"部件 {i}") for i in range(1, 6)]
    fields: list[dict[str, Any]] = [
        {"id": "category", "type": "select", "label": label("Category", "类别"),
         "options": options(cats), "required": True},
        {"id": "impact", "type": "select", "label": label("Who is affected?", "影响范围"),
         "options": options([("me", "Just me", "仅我自己"), ("team", "My team", "我的团队"),
                             ("company", "The whole company", "全公司")]),
         "default": "me", "required": True},
        {"id": "resolution_code", "type": "select", "label": label("Resolution code", "解决方式"),
         "options": options(RESOLUTIONS), "readonly_in": ["closed"]},
        {"id": "approver", "type": "user", "label": label("Approver", "审批人")},
        {"id": "attachments", "type": "attachment", "label": label("Attachments", "附件"),
         "multiple": True, "max_size_mb": 10, "accept": ["image/*", ".pdf", ".xlsx", ".log"]},
        {"id": "due_date", "type": "date", "label": label("Needed by", "期望完成日期")},
        {"id": f"{dom}_asset_tag", "type": "text", "label": label("Asset tag", "资产编号"),
         "help": label("Printed on the asset sticker.", "见资产标签。"),
         "placeholder": label("e.g. AB-123456", "例如 AB-123456"),
         "pattern": PATTERNS[1], "visible_if": {"category": first_cat},
         "required_if": {"category": first_cat}},
        {"id": f"{dom}_cost", "type": "decimal", "label": label("Estimated cost", "预估费用"),
         "scale": 2, "min": 0, "max": 1000000, "internal": True},
        {"id": f"{dom}_quantity", "type": "number", "label": label("Quantity", "数量"),
         "min": 1, "max": 10000, "default": 1},
        {"id": f"{dom}_on_site", "type": "boolean", "label": label("On site visit", "需要上门"),
         "default": False},
        {"id": f"{dom}_location", "type": "select", "label": label("Location", "地点"),
         "options": options(SITES), "default": site},
        {"id": f"{dom}_components", "type": "multiselect", "label": label("Components", "部件"),
         "options": options(components)},
        {"id": f"{p}_reference", "type": "text", "label": label("Reference number", "参考编号"),
         "pattern": PATTERNS[(d + n) % len(PATTERNS)], "max_length": 40},
        {"id": f"{p}_details", "type": "textarea", "label": label("Details", "详细说明"),
         "max_length": 4000, "visible_if": {"impact": {"ne": "me"}}},
        {"id": f"{p}_amount", "type": "decimal", "label": label("Amount", "金额"),
         "scale": 2, "min": 0, "max": 500000,
         "required_if": {"any": [{"impact": "company"},
                                 {"all": [{"category": second_cat},
                                          {f"{dom}_on_site": True}]}]}},
        {"id": f"{p}_count", "type": "integer", "label": label("Affected units", "受影响数量"),
         "min": 0, "max": 999},
        {"id": f"{p}_start_date", "type": "date", "label": label("Start date", "开始日期"),
         "visible_if": {"category": [first_cat, second_cat]}},
        {"id": f"{p}_confirmed", "type": "boolean",
         "label": label("Confirmed by manager", "经理已确认")},
        {"id": f"{p}_contact", "type": "user", "label": label("Contact person", "联系人")},
        {"id": f"{p}_labels", "type": "multiselect", "label": label("Labels", "标签"),
         "options": options(CATEGORY_WORDS[:4]),
         "visible_if": {f"{dom}_quantity": {"gt": 10}}},
    ]  # fmt: skip
    own = fields[12:]  # the type's own fields come in no fixed order
    rng.shuffle(own)
    fields[12:] = own
    forms = {
        "create": [
            {"section": label("Request", "申请内容"),
             "fields": ["title", "description", "category", "impact", f"{dom}_asset_tag",
                        f"{dom}_location", f"{p}_reference", f"{p}_details"]},
            {"section": label("Details", "详细信息"),
             "fields": [f"{p}_start_date", f"{dom}_quantity", f"{dom}_components",
                        f"{p}_labels", "due_date"]},
            {"section": label("Evidence", "附件"), "fields": ["attachments"]},
        ],
        "agent": [
            {"section": label("Triage", "分派"),
             "fields": ["priority", "team", "assignee", "tags"]},
            {"section": label("Details", "详情"),
             "fields": ["category", "impact", f"{p}_amount", f"{dom}_cost", f"{p}_count",
                        f"{dom}_on_site", f"{p}_confirmed", f"{p}_contact", "approver"]},
            {"section": label("Resolution", "处理结果"), "fields": ["resolution_code"]},
        ],
    }  # fmt: skip
    rules: list[dict[str, Any]] = [
        {"when": {"impact": "company"}, "set": "urgent"},
        {"when": {"impact": "team"}, "set": "high"},
        {"when": {f"{p}_amount": {"gte": 100000}}, "set": "high"},
    ]
    if n % 2:
        rules.append({"when": {"category": first_cat, f"{dom}_on_site": True}, "set": "high"})
    return {
        "kind": "TicketType",
        "id": type_id(d, n, s),
        "name": label(f"{dom_en} {noun_en} ({site_en})", f"{site_zh}{dom_zh}{noun_zh}"),
        "description": label(
            f"{dom_en} {noun_en} at the {site_en} site.",
            f"提交{site_zh}园区的{dom_zh}{noun_zh}。",
        ),
        "key_prefix": f"{dom_key}{noun_key}{site.upper()}",
        "workflow": workflow_id(d, n),
        "fields": fields,
        "forms": forms,
        "priority": {"default": "normal", "rules": rules},
    }


OPEN_STATES = [
    ("in_progress", "In progress", "处理中"),
    ("escalated", "Escalated", "已升级"),
    ("implementing", "Implementing", "实施中"),
]
PENDING_STATES = [
    ("waiting_customer", "Waiting for requester", "等待用户反馈"),
    ("waiting_vendor", "Waiting for vendor", "等待供应商"),
    ("awaiting_approval", "Awaiting approval", "等待审批"),
]


def workflow(d: int, n: int, rng: random.Random) -> dict[str, Any]:
    """5-8 states, 6-10 transitions, every state reachable and with a way out."""
    dom = DOMAINS[d][0]
    extra = rng.randint(1, 4)
    n_open = rng.randint(max(0, extra - 3), min(2, extra))  # extra open states besides the first
    n_pending = extra - n_open
    opens = OPEN_STATES[: 1 + n_open]
    pendings = rng.sample(PENDING_STATES, n_pending)
    states: dict[str, Any] = {"new": {"category": "new", "label": label("New", "新建")}}
    for sid, en, zh in opens:
        states[sid] = {"category": "open", "label": label(en, zh)}
    for sid, en, zh in pendings:
        states[sid] = {"category": "pending", "label": label(en, zh)}
    states["resolved"] = {"category": "resolved", "label": label("Resolved", "已解决")}
    states["closed"] = {"category": "closed", "label": label("Closed", "已关闭")}
    work = opens[0][0]
    open_ids = [s[0] for s in opens]
    pending_ids = [s[0] for s in pendings]
    transitions: list[dict[str, Any]] = [
        {"id": "start", "label": label("Start work", "开始处理"), "from": ["new"], "to": work,
         "roles": ["agent"]},
    ]  # fmt: skip
    for (prev, _, _), (sid, en, zh) in itertools.pairwise(opens):
        transitions.append(
            {"id": f"to_{sid}", "label": label(en, zh), "from": [prev], "to": sid,
             "roles": ["agent", "admin"], "when": {"impact": ["team", "company"]}}
        )  # fmt: skip
    for sid, en, zh in pendings:
        transitions.append(
            {"id": f"wait_{sid.split('_')[-1]}", "label": label(en, zh), "from": open_ids,
             "to": sid, "roles": ["agent"], "comment": "required"}
        )  # fmt: skip
    if pendings:
        roles = ["requester", "agent"]
        if "awaiting_approval" in pending_ids:
            roles.append("field:approver")
        transitions.append(
            {"id": "resume", "label": label("Resume", "继续处理"), "from": pending_ids,
             "to": work, "roles": roles, "comment": "optional"}
        )  # fmt: skip
    resolve: dict[str, Any] = {
        "id": "resolve", "label": label("Resolve", "解决"), "from": ["new", *open_ids],
        "to": "resolved", "roles": ["agent"], "when": {"assignee": {"empty": False}},
        "fields": ["resolution_code"], "comment": "required",
    }  # fmt: skip
    if d % 3 == 0:
        resolve["fields"] = ["resolution_code", f"{dom}_cost"]
    transitions += [
        resolve,
        {"id": "reopen", "label": label("Reopen", "重新打开"), "from": ["resolved"], "to": work,
         "roles": ["requester", "agent"], "comment": "required"},
        {"id": "withdraw", "label": label("Withdraw", "撤回"), "from": ["new"], "to": "closed",
         "roles": ["requester"], "comment": "optional"},
        {"id": "close", "label": label("Close", "关闭"), "from": ["resolved"], "to": "closed",
         "roles": ["requester", "agent"], "after": rng.choice(["72h", "3d", "5d", "1d12h"]),
         "actions": [{"survey": "csat"}]},
    ]  # fmt: skip
    on_enter: dict[str, Any] = {"resolved": [{"notify": "requester", "template": "resolved"}]}
    if "waiting_customer" in pending_ids:
        on_enter["waiting_customer"] = [
            {"notify": "requester", "template": "waiting_for_requester"}
        ]
    if "awaiting_approval" in pending_ids:
        on_enter["awaiting_approval"] = [
            {"notify": "field:approver", "template": "approval_request"}
        ]
    return {
        "kind": "Workflow",
        "id": workflow_id(d, n),
        "name": label(f"{DOMAINS[d][2]} {NOUNS[n][2]}", f"{DOMAINS[d][3]}{NOUNS[n][3]}流程"),
        "initial": "new",
        "states": states,
        "transitions": transitions,
        "on_enter": on_enter,
    }


CN_HOLIDAYS = [
    "2026-01-01..2026-01-03", "2026-02-15..2026-02-23", "2026-04-04..2026-04-06",
    "2026-05-01..2026-05-05", "2026-06-19..2026-06-21", "2026-09-25..2026-09-27",
    "2026-10-01..2026-10-07",
]  # fmt: skip
CN_WORKDAYS = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
               "2026-10-10"]  # fmt: skip
US_HOLIDAYS = [
    "2026-01-01", "2026-01-19", "2026-05-25", "2026-07-03", "2026-09-07",
    "2026-11-26..2026-11-27", "2026-12-24..2026-12-25",
]  # fmt: skip


def calendars() -> list[dict[str, Any]]:
    return [
        {"kind": "Calendar", "id": "cn_business",
         "name": label("China office hours", "中国大陆工作时间"), "timezone": "Asia/Shanghai",
         "hours": {"mon-fri": ["09:00-12:00", "13:30-18:00"]},
         "holidays": CN_HOLIDAYS, "workdays": CN_WORKDAYS},
        {"kind": "Calendar", "id": "cn_customer_service",
         "name": label("China customer service hours", "客服服务时间"),
         "timezone": "Asia/Shanghai", "hours": {"mon-sun": ["09:00-21:00"]},
         "holidays": ["2026-02-16..2026-02-18"]},
        {"kind": "Calendar", "id": "cn_factory_24x7", "name": label("Factory 24x7", "工厂全天候"),
         "timezone": "Asia/Shanghai", "hours": {"mon-sun": ["00:00-24:00"]}},
        {"kind": "Calendar", "id": "us_business",
         "name": label("New York office hours", "纽约办公时间"), "timezone": "America/New_York",
         "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": US_HOLIDAYS},
        {"kind": "Calendar", "id": "us_extended",
         "name": label("New York extended support", "纽约延长支持时间"),
         "timezone": "America/New_York",
         "hours": {"mon-fri": ["07:00-12:00", "12:30-22:00"], "sat": ["09:00-13:00"]},
         "holidays": US_HOLIDAYS[2:]},
    ]  # fmt: skip


CALENDAR_IDS = ["cn_business", "cn_customer_service", "cn_factory_24x7", "us_business",
                "us_extended"]  # fmt: skip
TARGET_SETS = [
    ({"urgent": "30m", "high": "1h", "normal": "4h", "low": "1d"},
     {"urgent": "4h", "high": "1d", "normal": "3d", "low": "5d"}),
    ({"urgent": "1h", "high": "2h", "normal": "4h", "low": "1d"},
     {"urgent": "1d", "high": "3d", "normal": "5d", "low": "7d"}),
    ({"urgent": "10m", "high": "30m", "normal": "2h", "low": "8h"},
     {"urgent": "2h", "high": "8h", "normal": "1d", "low": "3d"}),
]  # fmt: skip


def sla_policy(index: int) -> dict[str, Any]:
    """Policy `index` covers two kinds of ticket of one domain, at all five sites."""
    d, pair = divmod(index, 5)
    nouns = (2 * pair, 2 * pair + 1)
    types = [type_id(d, n, s) for n in nouns for s in range(len(SITES))]
    first, resolution = TARGET_SETS[index % len(TARGET_SETS)]
    targets: dict[str, Any] = {"first_response": first, "resolution": resolution}
    if index % 4 == 0:
        targets["next_response"] = {"urgent": "2h", "high": "4h", "normal": "1d", "low": "2d"}
    applies: dict[str, Any] = {"type": types}
    if index % 7 == 3:
        applies["impact"] = {"ne": "me"}
    dom_en, dom_zh = DOMAINS[d][2], DOMAINS[d][3]
    return {
        "kind": "SLAPolicy",
        "id": f"{DOMAINS[d][0]}_{NOUNS[nouns[0]][0]}_{NOUNS[nouns[1]][0]}",
        "name": label(f"{dom_en} {NOUNS[nouns[0]][2]} and {NOUNS[nouns[1]][2]}",
                      f"{dom_zh}{NOUNS[nouns[0]][3]}与{NOUNS[nouns[1]][3]}"),
        "applies_when": applies,
        "calendar": CALENDAR_IDS[index % len(CALENDAR_IDS)],
        "targets": targets,
        "pause_in": ["pending"],
        "escalations": [
            {"at": "80%", "target": "first_response",
             "actions": [{"notify": "team", "template": "sla_warning"}]},
            {"at": "80%", "target": "resolution",
             "actions": [{"notify": "team", "template": "sla_warning"},
                         {"notify": f"{DOMAINS[d][0]}.lead@example.com",
                          "template": "sla_warning"}]},
            {"at": "breach", "target": "resolution",
             "actions": [{"set": {"priority": "urgent"}},
                         {"assign": {"team": "escalation", "strategy": "manual"}}]},
        ],
    }  # fmt: skip


def team(index: int, rng: random.Random) -> dict[str, Any]:
    tid, en, zh = TEAMS[index]
    members = []
    for _ in range(rng.randint(4, 9)):
        user = f"{rng.choice(SURNAMES)}.{rng.choice(GIVEN)}{rng.randint(1, 99)}@example.com"
        if any(m["user"] == user for m in members):
            continue
        member: dict[str, Any] = {"user": user}
        if rng.random() < 0.8:
            member["skills"] = rng.sample(SKILLS, rng.randint(1, 3))
            member["capacity"] = rng.choice([10, 12, 15, 20])
        members.append(member)
    return {"kind": "Team", "id": tid, "name": label(en, zh),
            "email": f"{tid.replace('_', '-')}@example.com", "members": members}  # fmt: skip


def assignment(rng: random.Random, team_id: str | None = None) -> dict[str, Any]:
    strategy = rng.choice(STRATEGIES)
    out: dict[str, Any] = {
        "team": team_id or rng.choice([t[0] for t in TEAMS[:-1]]),
        "strategy": strategy,
    }
    if strategy == "skills":
        out["skills"] = rng.sample(SKILLS, rng.randint(1, 2))
    return out


def routing_documents(rng: random.Random) -> list[dict[str, Any]]:
    """200 rules: 20 adjustments that continue, 179 assignments, one catch-all; 4 documents."""
    adjustments: list[dict[str, Any]] = [
        {"name": label("VIP requesters get high priority", "VIP 用户提升为高优先级"),
         "when": {"requester.tier": "vip", "priority": ["low", "normal"]},
         "set": {"priority": "high"}, "add_tags": ["vip"], "continue": True},
    ]  # fmt: skip
    for d in range(len(DOMAINS)):
        dom, _, dom_en, dom_zh = DOMAINS[d]
        kinds = [type_id(d, n, s) for n in (0, 7) for s in range(len(SITES))]
        adjustments.append(
            {"name": label(f"Company-wide {dom_en} problems", f"全公司范围{dom_zh}问题"),
             "when": {"type": kinds, "impact": "company"},
             "add_tags": ["major_incident"], "continue": True}
        )  # fmt: skip
        if len(adjustments) < 20:
            adjustments.append(
                {"name": label(f"Large {dom_en} orders", f"{dom_zh}大额订单"),
                 "when": {"type": [type_id(d, 4, s) for s in range(len(SITES))],
                          f"{dom}_quantity": {"gte": 500}},
                 "set": {"priority": "high"}, "add_tags": ["large_order"], "continue": True}
            )  # fmt: skip
    assignments: list[dict[str, Any]] = []
    combos = [(d, n) for d in range(len(DOMAINS)) for n in range(len(NOUNS))]
    rng.shuffle(combos)
    while len(assignments) < N_ROUTING_RULES - len(adjustments) - 1:
        d, n = combos[len(assignments) % len(combos)]
        dom = DOMAINS[d][0]
        cats = categories_of(d, n)
        sites = rng.sample(range(len(SITES)), rng.randint(1, 5))
        when: dict[str, Any] = {"type": [type_id(d, n, s) for s in sorted(sites)]}
        roll = rng.random()
        if roll < 0.6:
            when["category"] = rng.choice(cats)[0]
        elif roll < 0.85:
            when["category"] = [c[0] for c in rng.sample(cats, 2)]
        else:
            when[f"{dom}_location"] = [SITES[s][0] for s in sorted(sites)][:2]
        cat = when.get("category")
        what = cat if isinstance(cat, str) else DOMAINS[d][2]
        rule = {
            "name": label(f"{DOMAINS[d][2]} {NOUNS[n][2]}: {what}",
                          f"{DOMAINS[d][3]}{NOUNS[n][3]}分派 {len(assignments) + 1}"),
            "when": when,
            "assign": assignment(rng),
        }  # fmt: skip
        assignments.append(rule)
    catch_all = {"name": label("Everything else to the service desk", "其余工单转服务台"),
                 "assign": {"team": "service_desk", "strategy": "round_robin"}}  # fmt: skip
    third = len(assignments) // 3
    chunks = [assignments[:third], assignments[third : 2 * third],
              [*assignments[2 * third :], catch_all]]  # fmt: skip
    docs = [{"kind": "RoutingRules", "id": "adjustments", "rules": adjustments}]
    docs += [{"kind": "RoutingRules", "id": f"assignment_{i + 1}", "rules": rules}
             for i, rules in enumerate(chunks)]  # fmt: skip
    return docs


def generate_bundle(root: Path, seed: int = 1) -> dict[str, int]:
    """Write the bundle under `root`; returns what it holds."""
    rng = random.Random(seed)
    for sub in ("ticket_types", "workflows", "sla", "routing", "teams"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    def write(relative: str, documents: list[dict[str, Any]], comment: str) -> None:
        (root / relative).write_text(dump_documents(documents, comment), encoding="utf-8")

    combos = [(d, n, s) for d in range(len(DOMAINS)) for n in range(len(NOUNS))
              for s in range(len(SITES))]  # fmt: skip
    assert len(combos) == N_TICKET_TYPES
    for d, n, s in combos:
        doc = ticket_type(d, n, s, rng)
        write(f"ticket_types/{doc['id']}.yaml", [doc], "Generated by bench/config_load.py.")
    for d in range(len(DOMAINS)):
        for n in range(len(NOUNS)):
            doc = workflow(d, n, rng)
            write(f"workflows/{doc['id']}.yaml", [doc], "Generated by bench/config_load.py.")
    write("sla/calendars.yaml", calendars(), "Business calendars.")
    write("sla/policies.yaml", [sla_policy(i) for i in range(N_SLA_POLICIES)], "SLA policies.")
    write("routing/default.yaml", routing_documents(rng),
          "Routing: first match wins unless `continue: true`.")  # fmt: skip
    for i in range(N_TEAMS):
        doc = team(i, rng)
        write(f"teams/{doc['id']}.yaml", [doc], "Generated by bench/config_load.py.")
    files = sorted(root.rglob("*.yaml"))
    return {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}


# --------------------------------------------------------------------------------------
# Measuring.
# --------------------------------------------------------------------------------------


def _load_or_fail(directory: Path) -> Any:
    try:
        return load_bundle(directory)
    except ConfigError as error:
        shown = "\n".join(f"  {issue}" for issue in error.issues[:40])
        more = len(error.issues) - 40
        extra = f"\n  … and {more} more" if more > 0 else ""
        raise SystemExit(
            f"the generated bundle does not load: {len(error.issues)} issue(s)\n{shown}{extra}"
        ) from None


def time_loads(directory: Path, runs: int) -> tuple[float, list[float]]:
    """The whole pipeline, every file parsed (the loader's parse cache emptied first)."""
    PARSE_CACHE.clear()
    start = time.perf_counter()
    _load_or_fail(directory)
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        PARSE_CACHE.clear()
        start = time.perf_counter()
        load_bundle(directory)
        times.append(time.perf_counter() - start)
    return first, times


def time_reloads(directory: Path, runs: int) -> list[float]:
    """A reload after one file changed: the other files come from the parse cache."""
    team_file = sorted((directory / "teams").glob("*.yaml"))[0]
    original = team_file.read_text("utf-8")
    times = []
    try:
        load_bundle(directory)
        for run in range(runs):
            team_file.write_text(f"{original}\n# reload {run}\n", "utf-8")
            start = time.perf_counter()
            load_bundle(directory)
            times.append(time.perf_counter() - start)
    finally:
        team_file.write_text(original, "utf-8")
    return times


def time_stages(directory: Path) -> list[tuple[str, float, bool]]:
    """Each stage of one run of the pipeline (caches warm): (name, seconds, is a detail).

    Parsing and schema checks are timed inside one real `check_bundle_sources` run, by
    wrapping the loader's `parse_documents` and `check_document_schema` for that run
    (in this process only); the second pass is what remains of that run.
    """
    PARSE_CACHE.clear()  # every file parsed, as on a first load
    start = time.perf_counter()
    sources = load_sources(directory)
    stages: list[tuple[str, float, bool]] = [
        ("read files (load_sources)", time.perf_counter() - start, False)
    ]
    parse_times: list[float] = []
    schema_times: dict[str, list[float]] = {}

    def parse(content: Any, name: str) -> Any:
        begin = time.perf_counter()
        try:
            return parse_documents(content, name)
        finally:
            parse_times.append(time.perf_counter() - begin)

    def schema(doc: Any, kind: str) -> Any:
        begin = time.perf_counter()
        try:
            return check_document_schema(doc, kind)
        finally:
            schema_times.setdefault(kind, []).append(time.perf_counter() - begin)

    gc_pauses: list[tuple[int, float]] = []  # (generation, seconds)
    gc_started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started.append(time.perf_counter())
        elif gc_started:
            gc_pauses.append((info["generation"], time.perf_counter() - gc_started.pop()))

    wrapped = {"parse_documents": parse, "check_document_schema": schema}
    saved = {name: getattr(loader, name) for name in wrapped if hasattr(loader, name)}
    try:
        for name in saved:
            setattr(loader, name, wrapped[name])
        gc.callbacks.append(on_gc)
        start = time.perf_counter()
        check_bundle_sources(sources)
        whole = time.perf_counter() - start
    finally:
        gc.callbacks.remove(on_gc)
        for name, original in saved.items():
            setattr(loader, name, original)
    full = [seconds for generation, seconds in gc_pauses if generation == 2]
    gc_line = (
        f"  garbage collector, all stages: {len(gc_pauses)} runs, "
        f"{len(full)} full ({sum(full) * 1e3:.0f} ms)",
        sum(seconds for _, seconds in gc_pauses),
        True,
    )
    if not parse_times or not schema_times:  # the loader no longer calls them by these names
        stages.append(("read + parse + schema + compile (check_bundle_sources)", whole, False))
        return [*stages, gc_line]
    parsing = sum(parse_times)
    checking = sum(sum(times) for times in schema_times.values())
    stages.append(("parse YAML (parse_documents)", parsing, False))
    stages.append(("JSON Schema (check_document_schema)", checking, False))
    for kind, times in sorted(schema_times.items(), key=lambda item: -sum(item[1])):
        each = sum(times) / len(times) * 1e3
        stages.append(
            (f"  of which {kind} ({len(times)} docs, {each:.2f} ms each)", sum(times), True)
        )
    stages.append(("references + compile (the rest of the run)", whole - parsing - checking, False))
    return [*stages, gc_line]


def condition_cases(bundle: Any) -> list[tuple[str, Callable[..., bool], dict[str, Any]]]:
    """(description, compiled condition, ticket values) to time."""
    values: dict[str, Any] = {
        "type": "it_incident_sh", "title": "Laptop does not boot", "description": "…",
        "priority": "normal", "state": "new", "state_category": "new", "team": None,
        "assignee": None, "requester": {"email": "li.wei@example.com", "tier": "standard"},
        "tags": [], "category": "hardware", "impact": "team", "resolution_code": None,
        "approver": None, "attachments": [], "due_date": "2026-03-02",
        "it_asset_tag": "AB-123456", "it_cost": "1200.00", "it_quantity": 1,
        "it_on_site": True, "it_location": "sh", "it_components": ["part_1"],
        "it_incident_reference": "ABC-123456", "it_incident_amount": "300.00",
        "it_incident_count": 3,
    }  # fmt: skip
    cases: list[tuple[str, Callable[..., bool], dict[str, Any]]] = []
    rule = next(
        (r for r in bundle.routing_rules
         if r.when is not None and isinstance(r.when.source, dict)
         and isinstance(r.when.source.get("category"), str)
         and len(r.when.source.get("type", ())) >= 3),
        None,
    )  # fmt: skip
    if rule is not None:
        source = rule.when.source
        hit = {**values, "type": source["type"][-1], "category": source["category"]}
        cases.append((f"routing when {_flow(source)[:60]}… (match)", rule.when, hit))
        cases.append(("same, other type (no match)", rule.when, {**values, "type": "x"}))
    field = bundle.ticket_types["it_incident_sh"].field_map["it_incident_amount"]
    if field.required_if is not None:
        cases.append(("field required_if any/all (bundle)", field.required_if, values))
    for source in (
        {"category": "hardware", "impact": {"ne": "me"}},
        {"priority": ["high", "urgent"]},
        {"any": [{"category": "network"},
                 {"all": [{"impact": "company"}, {"not": {"priority": "low"}}]}]},
    ):  # fmt: skip
        compiled, problems = compile_condition(source)
        assert not any(p.severity == "error" for p in problems), problems
        cases.append((_flow(source), compiled, values))
    return cases


def _noop(values: Any, previous: Any = None, now: Any = None) -> bool:
    return True


def time_condition(condition: Callable[..., bool], values: dict[str, Any]) -> float:
    """ns per `condition(values)`, median of 5 repeats of about 0.2 s each."""
    timer = timeit.Timer("cond(values)", globals={"cond": condition, "values": values})
    number, _ = timer.autorange()
    return statistics.median(timer.repeat(5, number)) / number * 1e9


def profile_load(directory: Path, top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    load_bundle(directory)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def count_conditions(bundle: Any) -> int:
    count = sum(r.when is not None for r in bundle.routing_rules)
    count += sum(p.applies_when is not None for p in bundle.sla_policies)
    for tt in bundle.ticket_types.values():
        count += len(tt.priority_rules)
        count += sum((f.visible_if is not None) + (f.required_if is not None) for f in tt.fields)
    for wf in bundle.workflows.values():
        count += sum(t.guard is not None for t in wf.transitions)
    return count


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def run(directory: Path, runs: int, profile: bool) -> None:
    bundle = _load_or_fail(directory)
    print(f"bundle: {len(bundle.ticket_types)} ticket types "
          f"({sum(len(t.fields) for t in bundle.ticket_types.values())} custom fields), "
          f"{len(bundle.workflows)} workflows, {len(bundle.calendars)} calendars, "
          f"{len(bundle.sla_policies)} SLA policies, {len(bundle.routing_rules)} routing rules, "
          f"{len(bundle.teams)} teams; {count_conditions(bundle)} compiled conditions; "
          f"{len(bundle.warnings)} warning(s)")  # fmt: skip
    for warning in bundle.warnings[:5]:
        print(f"  warning: {warning}")

    first, times = time_loads(directory, runs)
    median = statistics.median(times)
    print(f"\nload_bundle, whole pipeline ({runs} timed run(s) after a first one)")
    print(f"  {'figure':<44}{'value':>12}  {'target':>10}")
    print(f"  {'first load in this process (cold caches)':<44}{first * 1e3:>9.1f} ms")
    print(f"  {'median':<44}{median * 1e3:>9.1f} ms  {'< 1000 ms':>10}  "
          f"{_verdict(median < LOAD_TARGET_S)}")  # fmt: skip
    print(f"  {'min':<44}{min(times) * 1e3:>9.1f} ms")
    print(f"  {'max':<44}{max(times) * 1e3:>9.1f} ms")
    per_type = median / len(bundle.ticket_types) * 1e3
    print(f"  {'median / number of ticket types':<44}{per_type:>9.2f} ms")
    reloads = time_reloads(directory, runs)
    print(f"  {'reload, one file changed: median':<44}"
          f"{statistics.median(reloads) * 1e3:>9.1f} ms  (min {min(reloads) * 1e3:.1f}, "
          f"max {max(reloads) * 1e3:.1f})")  # fmt: skip

    stages = time_stages(directory)
    total = sum(seconds for _, seconds, detail in stages if not detail)
    print("\nby stage (one run of check_bundle_sources, warm)")
    for name, seconds, _ in stages:
        print(f"  {name:<60}{seconds * 1e3:>9.1f} ms  {seconds / total:>6.0%}")
    print(f"  {'sum of stages':<60}{total * 1e3:>9.1f} ms")

    print("\none condition evaluation (ns per call, median of 5 repeats)")
    print(f"  {'condition':<64}{'ns':>8}  {'target':>8}")
    baseline = time_condition(_noop, {})
    print(f"  {'(reference: a Python function that returns True)':<64}{baseline:>8.0f}")
    for name, condition, values in condition_cases(bundle):
        ns = time_condition(condition, values)
        shown = name if len(name) <= 62 else name[:61] + "…"
        print(f"  {shown:<64}{ns:>8.0f}  {'< 2000':>8}  {_verdict(ns < CONDITION_TARGET_NS)}")

    if profile:
        print("\ncProfile of one load_bundle, top 25 by cumulative time")
        print(profile_load(directory))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed loads (default 5)")
    parser.add_argument("--keep", metavar="DIR", help="write the bundle to DIR (new or empty)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of a load")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generator (default 1)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    print(f"Python {platform.python_version()} on {platform.platform()}, "
          f"{os.cpu_count()} CPU(s)")  # fmt: skip
    if args.keep:
        directory = Path(args.keep)
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            parser.error(f"--keep {directory}: not an empty directory")
        directory.mkdir(parents=True, exist_ok=True)
        stats = generate_bundle(directory, args.seed)
        print(f"generated {stats['files']} files, {stats['bytes'] / 1e6:.2f} MB in {directory}")
        run(directory, args.runs, args.profile)
        return 0
    with tempfile.TemporaryDirectory(prefix="gongdan-bench-") as tmp:
        directory = Path(tmp)
        stats = generate_bundle(directory, args.seed)
        print(f"generated {stats['files']} files, {stats['bytes'] / 1e6:.2f} MB (temporary)")
        run(directory, args.runs, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
