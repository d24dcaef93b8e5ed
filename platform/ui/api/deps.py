"""Dependencies of the API routes: the bearer-token actor, the service, `If-Match`.

They build on `ui.deps` as the HTML routes' do: the database (`DatabaseDep`) gives the
actor; `ApiService` and `ApiBundle` are the request's service and its bundle.
`ApiActor` resolves `Authorization: Bearer gd_…` to the token owner's `Actor` (one
indexed lookup of the token's SHA-256, on a worker thread: never on the event loop, so
a database that hangs stalls only the requests that wait for it); anything else is a
401 with `WWW-Authenticate: Bearer`, and an address that sends too many unknown
tokens gets 429 with `Retry-After` (`ui.ratelimit`). `OptionalActor` is None without a token (the config routes
are readable without one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from gongdan.engine import (
    Database,
    authenticate,
    lookup_epoch,
    recent_actor,
    remember_actor,
    utc_now,
)
from gongdan.errors import Conflict
from gongdan.rules.workflow import Actor
from gongdan.ui.api.errors import ApiProblem
from gongdan.ui.deps import BundleDep, DatabaseDep, ServiceDep, ThrottleDep
from gongdan.ui.ratelimit import Throttle, client_address

__all__ = [
    "ApiActor",
    "ApiBundle",
    "ApiService",
    "AttachmentId",
    "IfMatch",
    "OptionalActor",
    "TicketKey",
    "TransitionId",
    "TypeId",
    "expect_version",
    "parse_if_match",
]

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="gd_…",
    description="An API token from `gongdan token create EMAIL` (or the user's settings).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def _too_many(wait: int) -> ApiProblem:
    return ApiProblem(
        429,
        "too_many_requests",
        f"too many unknown tokens from this address; try again in {wait} s",
        headers={"Retry-After": str(wait)},
    )


async def _resolve(
    request: Request,
    database: Database,
    throttle: Throttle,
    credentials: HTTPAuthorizationCredentials | None,
) -> Actor | None:
    """The token's actor. A token recognised in the last seconds costs nothing
    (`engine.accounts.tokens`); otherwise the lookup (one indexed SELECT) runs on a
    worker thread, never on the event loop: a hung database must not stall the
    worker's other requests (`/healthz`, requests that need no database)."""
    if credentials is None:
        return None
    token = credentials.credentials
    # Kept a few seconds only while every revocation is heard (`engine.accounts.tokens`).
    actor = recent_actor(database, token)
    if actor is None:
        address = client_address(request.client.host if request.client else None)
        wait = throttle.token_blocked(address)
        if wait is not None:
            raise _too_many(wait)
        epoch = lookup_epoch()
        actor = await run_in_threadpool(_lookup, database, token)
        if actor is not None:
            remember_actor(database, token, actor, epoch)
        else:
            wait = await run_in_threadpool(throttle.token_failed, address)
            if wait is not None:
                raise _too_many(wait)
    if actor is None:
        raise _unauthorized("the bearer token is unknown or revoked, or its user is deactivated")
    return actor


def _lookup(db: Database, token: str) -> Actor | None:
    with db.read_once() as connection:
        return authenticate(connection, token, utc_now())


async def api_actor(
    request: Request, database: DatabaseDep, throttle: ThrottleDep, credentials: Credentials
) -> Actor:
    actor = await _resolve(request, database, throttle, credentials)
    if actor is None:
        raise _unauthorized("send an API token: `Authorization: Bearer gd_…`")
    return actor


async def optional_actor(
    request: Request, database: DatabaseDep, throttle: ThrottleDep, credentials: Credentials
) -> Actor | None:
    return await _resolve(request, database, throttle, credentials)


ApiActor = Annotated[Actor, Depends(api_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
# The service and its bundle, as the HTML routes get them (`ui.deps`).
ApiService = ServiceDep
ApiBundle = BundleDep
TicketKey = Annotated[str, Path(description="The ticket's key.", examples=["INC-1"])]
TransitionId = Annotated[str, Path(description="A transition of its workflow.", examples=["start"])]
AttachmentId = Annotated[
    str,
    Path(
        description="The `id` an upload answered (random, not a number).",
        examples=["fq3Zk8pWc1xR0sLmN7vT2bYd"],
    ),
]
TypeId = Annotated[str, Path(description="A ticket type id.", examples=["it_incident"])]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ticket\'s version as its ETag gives it (`"3"`), or `*` for any.',
    ),
]


def parse_if_match(value: str | None, *, required: bool) -> int | None:
    """The version an `If-Match` header names; None for `*` (or when absent and not
    required). A value that names no version can match none: -1."""
    if value is None or not value.strip():
        if required:
            raise ApiProblem(
                428,
                "precondition_required",
                "send If-Match with the ticket's version (its ETag) to change it",
                fields={"If-Match": "is required"},
            )
        return None
    text = value.strip()
    if text == "*":
        return None
    text = text.removeprefix("W/").strip('"')
    return int(text) if text.isdigit() and len(text) < 18 else -1


@contextmanager
def expect_version() -> Iterator[None]:
    """Turn the service's version conflict into a 412 carrying the current version."""
    try:
        yield
    except Conflict as exc:
        current = exc.extra.get("version")
        if current is None or not str(current).isdigit():
            raise
        raise ApiProblem(
            412,
            "precondition_failed",
            exc.detail,
            headers={"ETag": f'"{current}"'},
            extra={"current_version": int(current)},
        ) from exc
