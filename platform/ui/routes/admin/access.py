"""Who may use the admin console, and what its routes are given.

Every route of the console is built on `admin_router()`: the router requires an
admin on every route it holds, pages and posts alike. A visitor who is not signed in
is sent to sign in; an agent or a requester gets the 404 page, as if the console did
not exist (the test in tests/ui/admin enumerates the app's `/admin` routes and tries
each as both). Routes also take `AdminUser` to know who acts.

`EditorDep` is the save pipeline (`engine.ConfigEditor`) over the process's live
config; `author_of(account)` the author its saves record.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gongdan.engine import Account, Author, ConfigEditor, LiveConfig
from gongdan.errors import NotFound
from gongdan.ui.deps import CurrentUser, LiveDep
from gongdan.vocabulary import Role

__all__ = ["AdminUser", "EditorDep", "admin_router", "author_of", "require_admin"]


async def require_admin(account: CurrentUser) -> Account:
    """The signed-in admin; anyone else gets a 404 (the console is not theirs)."""
    if account.role != Role.ADMIN:
        raise NotFound("no such page")
    return account


AdminUser = Annotated[Account, Depends(require_admin)]


def admin_router() -> APIRouter:
    """A router whose every route requires an admin (use it for every admin page)."""
    return APIRouter(dependencies=[Depends(require_admin)], include_in_schema=False)


async def get_editor(live: LiveDep) -> ConfigEditor:
    """The save pipeline over this process's live config and its folder."""
    if live is None or live.directory is None:
        raise NotFound("this server has no config folder to edit")
    return _editor(live)


def _editor(live: LiveConfig) -> ConfigEditor:
    return ConfigEditor(live)


EditorDep = Annotated[ConfigEditor, Depends(get_editor)]


def author_of(account: Account) -> Author:
    """The admin as the author of a save (`Name <email>`)."""
    return Author(account.name or account.email, account.email)
