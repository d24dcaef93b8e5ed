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
`/healthz`. Route functions take these and never read `app.state` or open a database
session themselves: what they read and write goes through the service.

The service (and so the bundle) a request starts with is kept on `request.state` at
its first use, so `render` shows the bundle the route worked with even if a config
reload swaps the app's meanwhile (DESIGN.md). `CurrentUser` sends a visitor who is not
signed in to `/login?next=…` (htmx requests get `HX-Redirect`); `StaffUser` sends a
requester to the portal. The account is looked up once per request and kept on
`request.state.account`, where `render` and the language choice find it. A session
remembers a stamp of the password it began under; once the password changes (the
account page, a reset), every older session is signed out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gongdan.bundle.compiled import Bundle
from gongdan.engine import (
    Account,
    Database,
    LiveConfig,
    QueueService,
    ReportService,
    TicketService,
)
from gongdan.ui.ratelimit import SlidingWindow

__all__ = [
    "SESSION_STAMP",
    "SESSION_USER",
    "BundleDep",
    "CurrentUser",
    "DatabaseDep",
    "LiveDep",
    "LoginRequired",
    "OptionalUser",
    "PasswordMailWindow",
    "QueuesDep",
    "ReportsDep",
    "ServiceDep",
    "SignupWindow",
    "StaffOnly",
    "StaffUser",
    "get_bundle",
    "get_current_user",
    "get_database",
    "get_optional_user",
    "get_service",
    "request_bundle",
    "require_staff",
]

SESSION_USER = "user_id"
SESSION_STAMP = "password_stamp"


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


async def get_signup_window(request: Request) -> SlidingWindow:
    """How many self sign-ups each client address has made lately (`ui.ratelimit`)."""
    window: SlidingWindow = request.app.state.signups
    return window


async def get_password_mail_window(request: Request) -> SlidingWindow:
    """How many password mails each client address has asked for lately."""
    window: SlidingWindow = request.app.state.password_mails
    return window


BundleDep = Annotated[Bundle, Depends(get_bundle)]
QueuesDep = Annotated[QueueService, Depends(get_queues)]
ReportsDep = Annotated[ReportService, Depends(get_reports)]
DatabaseDep = Annotated[Database, Depends(get_database)]
LiveDep = Annotated[LiveConfig | None, Depends(get_live)]
SignupWindow = Annotated[SlidingWindow, Depends(get_signup_window)]
PasswordMailWindow = Annotated[SlidingWindow, Depends(get_password_mail_window)]


# Who asks -----------------------------------------------------------------------------


def get_optional_user(request: Request, service: ServiceDep) -> Account | None:
    """The signed-in account, or None (also when the account was deactivated)."""
    if hasattr(request.state, "account"):
        cached: Account | None = request.state.account
        return cached
    account = None
    user_id = request.session.get(SESSION_USER)
    if isinstance(user_id, int):
        account = service.accounts.get_account(user_id)
        if account is not None and not _same_password(request, account):
            account = None
        if account is None:
            request.session.pop(SESSION_USER, None)
            request.session.pop(SESSION_STAMP, None)
    request.state.account = account
    return account


def _same_password(request: Request, account: Account) -> bool:
    """Whether the session began under the account's current password. A session is
    stamped on its first request after signing in (every sign-in starts a fresh one);
    once the password changes, older sessions (another browser, a stolen cookie) end."""
    stamp = request.session.get(SESSION_STAMP)
    if stamp is None:
        request.session[SESSION_STAMP] = account.session_stamp
        return True
    return bool(stamp == account.session_stamp)


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
