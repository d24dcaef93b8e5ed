"""Benchmark: `gongdan plan` against a database holding many live tickets.

Builds a SQLite database (in a temporary directory) with `--tickets` IT incidents of
the example bundle, written through `TicketService` (a third of them waiting for their
requester), and a candidate bundle that touches every ticket question a plan asks: a
state removed with a `migrate`, a select option removed, and an SLA target shortened
(so every live ticket's deadline is recomputed). Then it times `plan_against` over
`--runs` runs (after one warm-up run) and prints the median, min and max, and the
median per 1,000 tickets. Target: a plan of 10,000 live tickets in under 10 s on one
core. It prints; it does not assert.

    .venv/bin/python bench/plan.py [--tickets N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gongdan.bundle.loader import load_bundle
from gongdan.engine import Database, TicketService, plan_against
from tests.bundles import (
    EXAMPLE,
    MIGRATE_TO_IN_PROGRESS,
    NO_ROUTING,
    NO_WAITING,
    edit_bundle,
    make_bundle,
)
from tests.factories import NOW, StepClock, incident, make_user

CANDIDATE_EDITS = {
    "ticket_types/it_incident.yaml": [
        ("      - {value: network, label: {en: Network, zh-CN: 网络}}\n", "")
    ],
    "sla/policies.yaml": [
        (
            "resolution:     {urgent: 4h, high: 1d, normal: 3d, low: 5d}",
            "resolution:     {urgent: 4h, high: 1d, normal: 2d, low: 5d}",
        )
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gongdan-bench-plan-"))
    os.environ.setdefault("GONGDAN_DATA_DIR", str(root / "data"))
    db = Database(f"sqlite:///{root / 'plan.db'}")
    db.upgrade()
    active = load_bundle(make_bundle(root / "active", NO_ROUTING, base=EXAMPLE))
    candidate_dir = make_bundle(root / "candidate", {**NO_ROUTING, **NO_WAITING}, base=EXAMPLE)
    edit_bundle(candidate_dir, MIGRATE_TO_IN_PROGRESS)
    candidate = load_bundle(edit_bundle(candidate_dir, CANDIDATE_EDITS))
    service = TicketService(db, active, clock=StepClock())
    requester = make_user(db, "zhang.san@example.com", "requester")
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    started = time.perf_counter()
    categories = ("software", "network", "hardware", "access")
    for n in range(args.tickets):
        category = categories[n % 4]
        fields = {"category": category, "impact": "me"}
        if category == "hardware":
            fields["device_serial"] = f"PC-2026-{n:05d}"
        key = incident(service, requester, title=f"Ticket {n}", fields=fields).ticket.key
        if n % 3 == 0:
            service.take_transition(agent, key, "ask_requester", comment="Which version?")
    print(f"{args.tickets} tickets written in {time.perf_counter() - started:.1f} s")
    now = NOW + timedelta(days=1)
    plan = plan_against(db, active, candidate, now=now)  # warm-up
    print(
        f"plan: {len(plan.changes)} changes; {sum(s.tickets for s in plan.states)} tickets "
        f"migrated, {sum(f.tickets for f in plan.fields)} field values refused, "
        f"{plan.sla.tickets} new SLA deadlines"
    )
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        plan_against(db, active, candidate, now=now)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"plan_against over {args.tickets} live tickets, {args.runs} runs: median "
        f"{median:.3f} s (min {min(times):.3f}, max {max(times):.3f}); "
        f"{median / args.tickets * 1000:.3f} s per 1,000 tickets (target: 10,000 in < 10 s)"
    )
    db.dispose()


if __name__ == "__main__":
    main()
