"""The FastAPI application: the agent desk, sign-in, static files, health and the API.

At start-up it migrates an embedded SQLite database and promotes the config folder (or,
in `GONGDAN_CONFIG_RELOAD=manual` mode, serves the version the database has active);
the promotion syncs the teams (and with `demo`, it seeds a working desk).

The database, the process's `LiveConfig` (its current bundle, following the database's
active version and watching the folder: `engine.lifecycle`) and a service over the
current bundle are kept on `app.state`, which only the dependencies of `ui.deps` read.
When the live config swaps its bundle, a new service replaces the old one; a request
keeps the service (and so the bundle) it started with. Middleware, outermost first: the
keep-alive limit (`ui.serving`), security headers (`ui.headers`), the body size limit
(`ui.bodylimit`), signed-cookie sessions (holding the key of a server-side session,
`ui.deps`), then CSRF protection of every state-changing request outside `/api/`
(`ui.security`). Security settings come from the environment (`ui.websettings`).
Errors become pages in `ui.errors`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from gongdan.bundle.compiled import Bundle
from gongdan.channels.email.imap import poll_from_env
from gongdan.channels.email.templates import check_templates
from gongdan.engine import (
    SCHEDULED_JOBS,
    AccountService,
    Database,
    LiveConfig,
    ScheduledJob,
    TicketService,
    counts_for,
    start_config,
)
from gongdan.ui.api import api_router
from gongdan.ui.background import background_in_workers, embedded_runner
from gongdan.ui.bodylimit import BodyLimit
from gongdan.ui.deps import BundleDep, DatabaseDep
from gongdan.ui.errors import install_error_handlers, refuse_csrf, refuse_too_large
from gongdan.ui.headers import SecurityHeaders
from gongdan.ui.ratelimit import Throttle
from gongdan.ui.routes import admin
from gongdan.ui.routes.account import auth, notifications, password
from gongdan.ui.routes.account import settings as account
from gongdan.ui.routes.desk import followers, macros, queues, relations, reports, search, tickets
from gongdan.ui.routes.desk import new as desk
from gongdan.ui.routes.desk import views as saved_views
from gongdan.ui.routes.portal import cc as portal_cc
from gongdan.ui.routes.portal import home as portal
from gongdan.ui.security import CsrfMiddleware, secret_key
from gongdan.ui.serving import KeepAliveLimit, limit_worker_threads, tune_collector
from gongdan.ui.websettings import WebSettings

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "gongdan_session"
# Swagger UI starts from a static script, not an inline one (the CSP allows none).
API_DOCS = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gongdan API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
<link rel="icon" href="/static/vendor/swagger-ui/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""


@asynccontextmanager
async def run_background_work(app: FastAPI) -> AsyncIterator[None]:
    """Without a broker (`GONGDAN_BROKER_URL` unset), relay the outbox and run the
    scheduled jobs in this process; with one, the Celery worker does it; with
    `GONGDAN_BACKGROUND=process`, the `gongdan background` process does."""
    limit_worker_threads()
    live: LiveConfig = app.state.live
    live.start()  # follow the database's active version (and watch the folder)
    runner = None
    # (Not with a broker, nor beside a `gongdan background` process: `ui.background`.)
    if background_in_workers():
        runner = embedded_runner(app.state.db, live, background_jobs())
        runner.start()
    app.state.runner = runner
    try:
        yield
    finally:
        if runner is not None:
            await asyncio.to_thread(runner.stop)
        await asyncio.to_thread(live.stop)


# Sign-ups / password mails per client address and per address typed, by default
# (`GONGDAN_ACCOUNT_MAIL_LIMIT`; `ui.ratelimit`).
ACCOUNT_REQUESTS = WebSettings().account_mail_limit


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
    prepare: bool = True,
) -> FastAPI:
    """Build the app around the bundle of `config_dir` (raises ConfigError if invalid)
    and the database at `database_url` (default: $GONGDAN_DATABASE_URL or SQLite).
    With `prepare` (the default) it also seeds the demo when asked; the workers of
    `gongdan serve --workers N` leave that to `serve`, which did it once before starting
    them. Every process promotes or follows the config through `start_config`, which
    is safe when several start at once."""
    # The API docs are served from vendored Swagger UI files (no CDN: desks run offline).
    app = FastAPI(
        title="Gongdan",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=run_background_work,
    )
    web_settings = WebSettings.from_env()
    db = Database(database_url)
    if db.dialect == "sqlite":
        db.upgrade()  # the embedded default sets itself up; production runs `db upgrade`
    live = start_config(db, config_dir, checks=check_templates)
    service = TicketService(db, live.bundle)
    if prepare and demo:
        service.seed_demo()
    # (No team sync here: the promotion that made the version active synced the teams,
    # and a user made since joined theirs. Several workers starting at once on
    # PostgreSQL would otherwise rewrite the same membership rows at the same time.)
    app.state.live = live
    app.state.db = db
    app.state.service = service
    app.state.web_settings = web_settings
    # Sign-in, password mails, sign-up and unknown tokens, counted across processes.
    app.state.throttle = Throttle(counts_for(db, web_settings.throttle_redis_url), web_settings)

    def serve_bundle(bundle: Bundle) -> None:
        # One assignment: a request that has its service keeps it (`ui.deps`).
        app.state.service = TicketService(db, bundle, attachments=service.attachments)

    live.subscribe(serve_bundle)

    # Added last runs first: the session must exist before the CSRF check reads it.
    app.add_middleware(CsrfMiddleware, refuse=refuse_csrf)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=web_settings.session_max_seconds,
        same_site="lax",
        https_only=os.environ.get("GONGDAN_SECURE_COOKIES") == "1",
    )
    # Body sizes are checked before the session and CSRF middlewares read anything.
    app.add_middleware(BodyLimit, settings=web_settings, refuse=refuse_too_large)
    app.add_middleware(SecurityHeaders, hsts_seconds=web_settings.hsts_seconds)
    app.add_middleware(KeepAliveLimit)  # outermost: long-lived clients spread over workers
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """The tab icon browsers ask for at the root (static/favicon.ico, made for Gongdan)."""
        headers = {"Cache-Control": "public, max-age=86400"}
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon", headers=headers)

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(API_DOCS)

    @app.get("/healthz")
    def healthz(bundle: BundleDep, database: DatabaseDep) -> dict[str, str | int]:
        database.ping()
        # Counts only: an admin's token reads the errors and the names at
        # GET /api/v1/config/status.
        return {
            "status": "ok",
            "config_version": bundle.version,
            "config_errors": len(live.errors) + (live.refusal is not None),
            "members_without_account": AccountService(database).count_members_without_account(
                bundle.version
            ),
        }

    for module in (auth, desk, password, queues, relations, reports, search, tickets):
        app.include_router(module.router)
    for module in (followers, macros, notifications, portal_cc, saved_views):  # issue 21
        app.include_router(module.router)
    app.include_router(portal.router)
    app.include_router(account.router)
    app.include_router(admin.router)
    app.include_router(api_router)
    return app


def serve_app() -> FastAPI:
    """The app one `gongdan serve --workers N` worker process builds (uvicorn's factory):
    the config directory from $GONGDAN_CONFIG_DIR, the database from
    $GONGDAN_DATABASE_URL (`serve` set them, prepared the database, promoted the config
    and seeded the demo before it started the workers)."""
    app = create_app(os.environ.get("GONGDAN_CONFIG_DIR", "config"), prepare=False)
    tune_collector()
    return app
