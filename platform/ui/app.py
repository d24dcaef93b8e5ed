"""The FastAPI application: for now the config overview, health and type schemas.

At start-up it loads the bundle, migrates an embedded SQLite database, records the config
version and syncs teams from the bundle (and with `demo`, seeds a working desk).

The bundle is loaded once at start-up and kept on `app.state`; a request reads the
bundle it started with (DESIGN.md: reload swaps it atomically).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from gongdan.engine.background import InProcessRunner
from gongdan.engine.config.bundle import Bundle
from gongdan.engine.config.loader import load_bundle
from gongdan.engine.db.database import Database
from gongdan.engine.demo import seed_demo
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.users import record_config_version, sync_teams
from gongdan.errors import NotFound

__all__ = ["create_app"]

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def pick_language(request: Request) -> str:
    """English or Simplified Chinese, from the Accept-Language header."""
    header = request.headers.get("accept-language", "").lower()
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def localise(label: Any, language: str) -> str:
    """A label (text or {locale: text}) in `language`, falling back to English."""
    if isinstance(label, str) or label is None:
        return label or ""
    return str(label.get(language) or label.get("en") or next(iter(label.values()), ""))


def get_bundle(request: Request) -> Bundle:
    bundle: Bundle = request.app.state.bundle
    return bundle


BundleDep = Annotated[Bundle, Depends(get_bundle)]


@asynccontextmanager
async def run_background_work(app: FastAPI) -> AsyncIterator[None]:
    """Without a broker (`GONGDAN_BROKER_URL` unset), relay the outbox and run the
    scheduled jobs in this process; with one, the Celery worker does it."""
    runner = None
    if not os.environ.get("GONGDAN_BROKER_URL"):
        runner = InProcessRunner(app.state.db, lambda: app.state.bundle)
        runner.start()
    app.state.runner = runner
    try:
        yield
    finally:
        if runner is not None:
            await asyncio.to_thread(runner.stop)


def create_app(
    config_dir: str | os.PathLike[str] = "config",
    *,
    database_url: str | None = None,
    demo: bool = False,
) -> FastAPI:
    """Build the app around the bundle of `config_dir` (raises ConfigError if invalid)
    and the database at `database_url` (default: $GONGDAN_DATABASE_URL or SQLite)."""
    app = FastAPI(title="Gongdan", version="0.1.0", docs_url="/docs", lifespan=run_background_work)
    bundle = load_bundle(config_dir)
    db = Database(database_url)
    if db.dialect == "sqlite":
        db.upgrade()  # the embedded default sets itself up; production runs `db upgrade`
    with db.transaction() as session:
        record_config_version(session, bundle, utc_now())
        if demo:
            seed_demo(session, bundle, utc_now())
        sync_teams(session, bundle)
    app.state.bundle = bundle
    app.state.db = db
    app.state.service = TicketService(db, bundle)
    TEMPLATES.env.filters["l10n"] = localise

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": "not_found", "detail": exc.detail, "fields": {}}, 404)

    @app.get("/healthz")
    def healthz(bundle: BundleDep, request: Request) -> dict[str, str]:
        with request.app.state.db.reading() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "config_version": bundle.version}

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, bundle: BundleDep) -> HTMLResponse:
        language = pick_language(request)
        return TEMPLATES.TemplateResponse(
            request,
            "home.html",
            {"bundle": bundle, "lang": language},
            headers={"Vary": "Accept-Language"},
        )

    @app.get("/api/v1/config/ticket-types/{type_id}/schema")
    async def ticket_type_schema(type_id: str, bundle: BundleDep) -> JSONResponse:
        ticket_type = bundle.ticket_types.get(type_id)
        if ticket_type is None:
            raise NotFound(f"no ticket type '{type_id}'")
        return JSONResponse(dict(ticket_type.data_schema))

    return app
