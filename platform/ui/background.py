"""The embedded background work (no broker): in each web worker's threads, or in one
process of its own beside them (issue 23).

Without `GONGDAN_BROKER_URL`, `gongdan serve` relays the outbox and runs the scheduled
jobs itself (`engine.outbox.runner.InProcessRunner`), by default in threads of each
web worker. With `serve --workers N --background process`, the supervisor starts one
more process for it, `gongdan background` (`GONGDAN_BACKGROUND=process` tells the web
workers to leave the work to it): deliveries then never hold a web worker's
interpreter lock. Measured on a shared 2-core machine (`bench/api.py --background
process`, relay23's note): at load 4-8 it served more creates with a lower p95
(notifications logged), at load 10-13 fewer, and with mail one process's relay
threads delivered fewer mails per second than the web workers' threads together
(a backlog of seconds). So threads stay the default.

The background process follows the active config version as the web workers do, and
is woken by an adaptive poll (0.1-0.5 s; `engine.outbox.wakeup`): the writes happen
in other processes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from types import FrameType

from gongdan.channels import channels_for
from gongdan.channels.email.notifier import notifier_from_env
from gongdan.channels.email.templates import check_templates
from gongdan.engine import Database, InProcessRunner, LiveConfig, ScheduledJob, start_config

__all__ = ["BACKGROUND_ENV", "background_in_workers", "embedded_runner", "run_background"]

log = logging.getLogger(__name__)

# "process": a `gongdan background` process does the work; "threads" (or unset): the
# web workers do, each in threads of its own.
BACKGROUND_ENV = "GONGDAN_BACKGROUND"


def background_in_workers(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this web worker relays the outbox and runs the jobs itself: no broker
    (then Celery does) and no background process (`GONGDAN_BACKGROUND=process`)."""
    env = os.environ if environ is None else environ
    return not env.get("GONGDAN_BROKER_URL") and env.get(BACKGROUND_ENV) != "process"


# Relay threads of the background process: as many as two web workers have together
# (a mail's SMTP round trips and its log row's commit are waits, not CPU).
PROCESS_RELAYS = 4


def embedded_runner(
    db: Database, live: LiveConfig, jobs: list[ScheduledJob], relays: int = 2
) -> InProcessRunner:
    """The runner of the embedded background work (`relays` relay threads): mail by
    SMTP when GONGDAN_SMTP_URL is set, else notifications only logged."""
    notifier = notifier_from_env(db, live.current)
    return InProcessRunner(
        db, live.current, channels=channels_for(notifier), jobs=jobs, workers=relays
    )


def run_background(
    config_dir: str | os.PathLike[str], database_url: str, jobs: list[ScheduledJob]
) -> int:
    """`gongdan background`: the embedded background work in this process, until
    SIGTERM or SIGINT (the supervisor's stop)."""
    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    db = Database(database_url)
    live = start_config(db, config_dir, checks=check_templates)
    live.start()
    runner = embedded_runner(db, live, jobs, PROCESS_RELAYS)
    runner.start()
    log.info("background work started (outbox relay and scheduled jobs)")
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runner.stop()
        live.stop()
        db.dispose()
    return 0
