"""The FastAPI application: the agent desk, sign-in, static files, health and the API.

At start-up it migrates an embedded SQLite database and promotes the config folder (or,
in `GONGDAN_CONFIG_RELOAD=manual` mode, serves the version the database has active);
the promotion syncs the teams (and with `demo`, it seeds a working desk).

The database, the process's `LiveConfig` (its current bundle, following the database's
active version and watching the folder: `engine.lifecycle`) and a service over the
current bundle are kept on `app.state`, which only the dependencies of `ui.deps` read.
When the live config swaps its bundle, a new service replaces the old one; a request
keeps the service (and so the bundle) it started with. Middleware, outermost
first: signed-cookie sessions, then CSRF protection of every state-changing request
outside `/api/` (`ui.security`). Errors become pages in `ui.errors`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from gongdan.bundle.compiled import Bundle
from gongdan.channels import channels_for
from gongdan.channels.email.imap import poll_from_env
from gongdan.channels.email.notifier import notifier_from_env
from gongdan.channels.email.templates import check_templates
from gongdan.engine import (
    SCHEDULED_JOBS,
    AccountService,
    Database,
    InProcessRunner,
    LiveConfig,
    ScheduledJob,
    TicketService,
    start_config,
)
from gongdan.ui.api import api_router
from gongdan.ui.deps import BundleDep, DatabaseDep
from gongdan.ui.errors import install_error_handlers, refuse_csrf
from gongdan.ui.ratelimit import SlidingWindow
from gongdan.ui.routes.account import auth, password
from gongdan.ui.routes.account import settings as account
from gongdan.ui.routes.desk import new as desk
from gongdan.ui.routes.desk import queues, relations, reports, search, tickets
from gongdan.ui.routes.portal import home as portal
from gongdan.ui.security import CsrfMiddleware, secret_key
from gongdan.ui.serving import KeepAliveLimit, limit_worker_threads, tune_collector

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "gongdan_session"
SESSION_MAX_AGE = 7 * 24 * 3600


@asynccontextmanager
async def run_background_work(app: FastAPI) -> AsyncIterator[None]:
    """Without a broker (`GONGDAN_BROKER_URL` unset), relay the outbox and run the
    scheduled jobs in this process; with one, the Celery worker does it."""
    limit_worker_threads()
    live: LiveConfig = app.state.live
    live.start()  # follow the database's active version (and watch the folder)
    runner = None
    if not os.environ.get("GONGDAN_BROKER_URL"):
        # Mail by SMTP when GONGDAN_SMTP_URL is set, else notifications are logged.
        notifier = notifier_from_env(app.state.db, live.current)
        runner = InProcessRunner(
            app.state.db,
            live.current,
            channels=channels_for(notifier),
            jobs=background_jobs(),
        )
        runner.start()
    app.state.runner = runner
    try:
        yield
    finally:
        if runner is not None:
            await asyncio.to_thread(runner.stop)
        await asyncio.to_thread(live.stop)


ACCOUNT_REQUESTS = 10  # sign-ups / password mails per client address …
ACCOUNT_WINDOW_SECONDS = 600  # … in ten minutes


def background_jobs(environ: Mapping[str, str] | None = None) -> list[ScheduledJob]:
    """The embedded runner's periodic jobs: the scheduler's, and with
    `GONGDAN_IMAP_URL` set the mailbox polled every `GONGDAN_IMAP_POLL_SECONDS` (60), as
    Celery beat does with a broker (`gongdan.tasks`)."""
    env = os.environ if environ is None else environ
    jobs = list(SCHEDULED_JOBS)
    if env.get("GONGDAN_IMAP_URL"):
        every = float(env.get("GONGDAN_IMAP_POLL_SECONDS") or 60)
        jobs.append(ScheduledJob("poll_mail", every, _poll_mail))
    return jobs


def _poll_mail(db: Database, bundle: Bundle, _now: datetime) -> object:
    return poll_from_env(db, lambda: bundle)


def create_app(
    config_dir: str | os.PathLike[str] = "config",
    *,
    database_url: str | None = None,
    demo: bool = False,
) -> FastAPI:
    """Build the app around the bundle of `config_dir` (raises ConfigError if invalid)
    and the database at `database_url` (default: $GONGDAN_DATABASE_URL or SQLite)."""
    # The API docs are served from vendored Swagger UI files (no CDN: desks run offline).
    app = FastAPI(
        title="Gongdan",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=run_background_work,
    )
    db = Database(database_url)
    if db.dialect == "sqlite":
        db.upgrade()  # the embedded default sets itself up; production runs `db upgrade`
    live = start_config(db, config_dir, checks=check_templates)
    service = TicketService(db, live.bundle)
    if demo:
        service.seed_demo()
    # (No team sync here: the promotion that made the version active synced the teams,
    # and a user made since joined theirs. Several workers starting at once on
    # PostgreSQL would otherwise rewrite the same membership rows at the same time.)
    app.state.live = live
    app.state.db = db
    app.state.service = service

    def serve_bundle(bundle: Bundle) -> None:
        # One assignment: a request that has its service keeps it (`ui.deps`).
        app.state.service = TicketService(db, bundle, attachments=service.attachments)

    live.subscribe(serve_bundle)
    # Requests without signing in that send mail or make accounts (`ui.ratelimit`).
    app.state.signups = SlidingWindow(ACCOUNT_REQUESTS, ACCOUNT_WINDOW_SECONDS)
    app.state.password_mails = SlidingWindow(ACCOUNT_REQUESTS, ACCOUNT_WINDOW_SECONDS)

    # Added last runs first: the session must exist before the CSRF check reads it.
    app.add_middleware(CsrfMiddleware, refuse=refuse_csrf)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=os.environ.get("GONGDAN_SECURE_COOKIES") == "1",
    )
    app.add_middleware(KeepAliveLimit)  # outermost: long-lived clients spread over workers
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Gongdan API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    @app.get("/healthz")
    def healthz(bundle: BundleDep, database: DatabaseDep) -> dict[str, str | int]:
        database.ping()
        # Counts only: an admin's token reads the errors and the names at
        # GET /api/v1/config/status.
        return {
            "status": "ok",
            "config_version": bundle.version,
            "config_errors": len(live.errors) + (live.refusal is not None),
            "members_without_account": len(AccountService(database).members_without_account()),
        }

    for module in (auth, desk, password, queues, relations, reports, search, tickets):
        app.include_router(module.router)
    app.include_router(portal.router)
    app.include_router(account.router)
    app.include_router(api_router)
    return app


def serve_app() -> FastAPI:
    """The app one `gongdan serve --workers N` worker process builds (uvicorn's factory):
    the config directory from $GONGDAN_CONFIG_DIR, the database from
    $GONGDAN_DATABASE_URL (`serve` set them and prepared the database before it
    started the workers)."""
    app = create_app(os.environ.get("GONGDAN_CONFIG_DIR", "config"))
    tune_collector()
    return app
