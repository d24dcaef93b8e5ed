"""FastAPI dependencies of the HTML routes, as type aliases (CONVENTIONS.md), and the
one place that reads what the app holds (`app.state`).

```python
@router.get("/desk/things/{key}")
def show(key: str, user: StaffUser, service: ServiceDep, request: Request) -> Response:
    return render(request, "desk/thing.html", {"ticket": service.get_ticket(user.actor, key)})
```

They build on each other: the request gives the service (`ServiceDep`, whose bundle
is `BundleDep` and whose queues are `QueuesDep`); the service gives the signed-in
account (`OptionalUser`, through `AccountService`), which `CurrentUser` requires and
`StaffUser` requires to be an agent or admin; the account gives the actor the service
acts for. `DatabaseDep` is the database itself, for the API's bearer-token lookup and
`/healthz`; `ThrottleDep` the shared sign-in, mail and token limits (`ui.ratelimit`). Route functions take these and never read `app.state` or open a database
session themselves: what they read and write goes through the service.

The service (and so the bundle) a request starts with is kept on `request.state` at
its first use, so `render` shows the bundle the route worked with even if a config
reload swaps the app's meanwhile (DESIGN.md). `CurrentUser` sends a visitor who is not
signed in to `/login?next=…` (htmx requests get `HX-Redirect`); `StaffUser` sends a
requester to the portal. The account is looked up once per request and kept on
`request.state.account`, where `render` and the language choice find it.

Sessions live on the server (`engine.accounts.sessions`): the signed cookie carries
only a random key (`SESSION_KEY`), `sign_in` makes one and `sign_out` ends it, and
every request checks it: a session ended elsewhere (logout, a new password, a reset,
deactivation, an admin's "sign out everywhere"), idle longer than
`GONGDAN_SESSION_IDLE_MINUTES` or older than `GONGDAN_SESSION_MAX_HOURS` is signed out
at once. The check is the same lookup of the account a signed-in page always made,
joined with its session row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from gongdan.bundle.compiled import Bundle
from gongdan.engine import (
    Account,
    AccountService,
    Database,
    LiveConfig,
    QueueService,
    ReportService,
    TicketService,
    counts_for,
)
from gongdan.ui.i18n import SESSION_LANGUAGE
from gongdan.ui.presence import Presence
from gongdan.ui.ratelimit import Throttle
from gongdan.ui.security import rotate_csrf_token
from gongdan.ui.websettings import WebSettings

__all__ = [
    "SESSION_KEY",
    "BundleDep",
    "CurrentUser",
    "DatabaseDep",
    "LiveDep",
    "LoginRequired",
    "OptionalUser",
    "PresenceDep",
    "QueuesDep",
    "ReportsDep",
    "ServiceDep",
    "StaffOnly",
    "StaffUser",
    "ThrottleDep",
    "get_bundle",
    "get_current_user",
    "get_database",
    "get_optional_user",
    "get_service",
    "request_bundle",
    "require_staff",
    "session_key",
    "sign_in",
    "sign_out",
]

SESSION_KEY = "session"


class LoginRequired(Exception):
    """The page needs a signed-in user; `target` is where to come back to."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class StaffOnly(Exception):
    """A requester asked for an agents' page."""


# What the app holds ------------------------------------------------------------------
# The dependencies that only read the app's state are coroutines: FastAPI runs a
# plain-function dependency on a worker thread, a hop there and back per request.


def request_service(request: Request) -> TicketService:
    """The service this request started with (the app's at the request's first use)."""
    service: TicketService | None = getattr(request.state, "service", None)
    if service is None:
        service = request.state.service = request.app.state.service
    return service


def request_bundle(request: Request) -> Bundle | None:
    """The bundle of the request's service, for templates (None in an app without a
    service yet, which only renders error pages)."""
    if not hasattr(request.state, "service") and not hasattr(request.app.state, "service"):
        return None
    return request_service(request).bundle


async def get_service(request: Request) -> TicketService:
    return request_service(request)


ServiceDep = Annotated[TicketService, Depends(get_service)]


async def get_bundle(service: ServiceDep) -> Bundle:
    """The compiled config the request's service runs."""
    return service.bundle


async def get_queues(service: ServiceDep) -> QueueService:
    """The desk's queues over the request's service's database, bundle and clock."""
    return QueueService(service.db, service.bundle, service.clock)


async def get_reports(service: ServiceDep) -> ReportService:
    """The dashboard's reports over the request's service's database, bundle and clock."""
    return ReportService(service.db, service.bundle, service.clock)


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def get_live(request: Request) -> LiveConfig | None:
    """The process's live config (None in an app built without one, as some tests do)."""
    live: LiveConfig | None = getattr(request.app.state, "live", None)
    return live


async def get_throttle(request: Request) -> Throttle:
    """The shared limits on sign-in, password mails, sign-up and tokens (`ui.ratelimit`);
    an app that mounts the API alone (no `create_app`) gets one on its database."""
    state = request.app.state
    throttle: Throttle | None = getattr(state, "throttle", None)
    if throttle is None:
        settings = _web_settings(request)
        throttle = Throttle(counts_for(state.db, settings.throttle_redis_url), settings)
        state.throttle = throttle
    return throttle


def _web_settings(request: Request) -> WebSettings:
    settings: WebSettings | None = getattr(request.app.state, "web_settings", None)
    if settings is None:
        settings = request.app.state.web_settings = WebSettings.from_env()
    return settings


def get_presence(request: Request) -> Presence:
    """Who is viewing which ticket, as this web process has seen (the collision warning)."""
    presence: Presence | None = getattr(request.app.state, "presence", None)
    if presence is None:
        presence = request.app.state.presence = Presence()
    return presence


BundleDep = Annotated[Bundle, Depends(get_bundle)]
QueuesDep = Annotated[QueueService, Depends(get_queues)]
ReportsDep = Annotated[ReportService, Depends(get_reports)]
DatabaseDep = Annotated[Database, Depends(get_database)]
LiveDep = Annotated[LiveConfig | None, Depends(get_live)]
ThrottleDep = Annotated[Throttle, Depends(get_throttle)]
PresenceDep = Annotated[Presence, Depends(get_presence)]


# Who asks -----------------------------------------------------------------------------


def get_optional_user(request: Request, service: ServiceDep) -> Account | None:
    """The signed-in account, or None (also when the account was deactivated)."""
    if hasattr(request.state, "account"):
        cached: Account | None = request.state.account
        return cached
    account = None
    key = request.session.get(SESSION_KEY)
    if isinstance(key, str):
        settings = _web_settings(request)
        account = service.accounts.session_account(
            key,
            idle=timedelta(seconds=settings.session_idle_seconds),
            lifetime=timedelta(seconds=settings.session_max_seconds),
        )
        if account is None:
            request.session.pop(SESSION_KEY, None)
    request.state.account = account
    return account


def session_key(request: Request) -> str:
    """The key of this browser's server-side session ("" when not signed in)."""
    key = request.session.get(SESSION_KEY)
    return key if isinstance(key, str) else ""


def sign_in(request: Request, accounts: AccountService, account: Account) -> None:
    """Start a new server-side session for `account` in a fresh cookie (whatever the
    browser had before is dropped, so a session fixed by someone else never becomes a
    signed-in one) with a fresh CSRF token."""
    request.session.clear()
    request.session[SESSION_KEY] = accounts.start_session(account.id)
    rotate_csrf_token(request)
    request.state.account = account


def sign_out(request: Request, accounts: AccountService) -> None:
    """End this browser's session on the server (a copy of the cookie is worth nothing
    from now on) and clear the cookie, keeping only the chosen language."""
    accounts.end_session(session_key(request))
    language = request.session.get(SESSION_LANGUAGE)
    request.session.clear()
    if language:
        request.session[SESSION_LANGUAGE] = language
    rotate_csrf_token(request)
    request.state.account = None


OptionalUser = Annotated[Account | None, Depends(get_optional_user)]


async def get_current_user(request: Request, account: OptionalUser) -> Account:
    if account is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return account


CurrentUser = Annotated[Account, Depends(get_current_user)]


async def require_staff(account: CurrentUser) -> Account:
    """The signed-in agent or admin; a requester is sent to the portal."""
    if not account.is_staff:
        raise StaffOnly()
    return account


StaffUser = Annotated[Account, Depends(require_staff)]
