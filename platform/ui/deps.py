"""FastAPI dependencies of the HTML routes, as type aliases (CONVENTIONS.md).

```python
@router.get("/desk/things/{key}")
def show(key: str, user: StaffUser, service: ServiceDep, request: Request) -> Response:
    return render(request, "desk/thing.html", {"ticket": service.get_ticket(user.actor, key)})
```

`OptionalUser` is the signed-in `Account` or None; `CurrentUser` sends a visitor who is
not signed in to `/login?next=…` (htmx requests get `HX-Redirect`); `StaffUser` also
sends a requester to the portal. The account is looked up once per request and kept on
`request.state.account`, where `render` and the language choice find it. A session
remembers a stamp of the password it began under; once the password changes (the
account page, a reset), every older session is signed out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts.users import Account, get_account
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.ui.errors import LoginRequired, StaffOnly
from gongdan.ui.i18n import language_for
from gongdan.ui.security import csrf_token

__all__ = [
    "BundleDep",
    "CsrfDep",
    "CurrentUser",
    "DatabaseDep",
    "LanguageDep",
    "OptionalUser",
    "ServiceDep",
    "StaffUser",
    "get_bundle",
    "get_current_user",
    "get_database",
    "get_optional_user",
    "get_service",
    "require_staff",
]

SESSION_USER = "user_id"
SESSION_STAMP = "password_stamp"


# The dependencies that only read the app's state are coroutines: FastAPI runs a
# plain-function dependency on a worker thread, a hop there and back per request.


async def get_bundle(request: Request) -> Bundle:
    """The bundle this request started with (a reload swaps `app.state.bundle`)."""
    bundle: Bundle = request.app.state.bundle
    return bundle


async def get_database(request: Request) -> Database:
    return _database(request)


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def get_service(request: Request) -> TicketService:
    service: TicketService = request.app.state.service
    return service


def get_optional_user(request: Request) -> Account | None:
    """The signed-in account, or None (also when the account was deactivated)."""
    if hasattr(request.state, "account"):
        cached: Account | None = request.state.account
        return cached
    account = None
    user_id = request.session.get(SESSION_USER)
    if isinstance(user_id, int):
        with _database(request).reading() as session:
            account = get_account(session, user_id)
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


def get_current_user(request: Request) -> Account:
    account = get_optional_user(request)
    if account is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return account


def require_staff(request: Request) -> Account:
    """The signed-in agent or admin; a requester is sent to the portal."""
    account = get_current_user(request)
    if not account.is_staff:
        raise StaffOnly()
    return account


def get_language(request: Request) -> str:
    get_optional_user(request)  # the user's own language wins over the browser's
    return language_for(request)


async def get_csrf_token(request: Request) -> str:
    return csrf_token(request)


BundleDep = Annotated[Bundle, Depends(get_bundle)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ServiceDep = Annotated[TicketService, Depends(get_service)]
OptionalUser = Annotated[Account | None, Depends(get_optional_user)]
CurrentUser = Annotated[Account, Depends(get_current_user)]
StaffUser = Annotated[Account, Depends(require_staff)]
LanguageDep = Annotated[str, Depends(get_language)]
CsrfDep = Annotated[str, Depends(get_csrf_token)]
