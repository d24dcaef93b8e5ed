"""`/account/notifications`: the user's notification preferences (issue 21): mail about
tickets on or off, and which kinds of ticket news come by mail. Every user, their own
only; the mail channel reads them for each recipient (`engine.muted_people`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongdan.engine import NEWS_KINDS
from gongdan.ui.deps import CurrentUser, ServiceDep
from gongdan.ui.render import redirect

__all__ = ["router"]

router = APIRouter()


@router.post("/account/notifications")
async def save_notifications(request: Request, user: CurrentUser, service: ServiceDep) -> Response:
    form = await request.form()
    wanted = {str(k) for k in form.getlist("kinds")}
    service.accounts.set_notification_preferences(
        user.actor,
        mail=form.get("mail") == "on",
        muted=[k for k in NEWS_KINDS if k not in wanted],
    )
    return redirect(request, "/account?saved=notifications")
