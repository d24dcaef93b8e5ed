"""The one way the console's pages review and save a config change (the YAML page,
the teams page and the visual editors alike).

`review(request, editor, changes)` answers with the proposal fragment
(`admin/_proposal.html`): the errors as `gongdan check` words them (file:line, each
linking to its line when the page shows the file), the unified diff, the plan's
summary (the open tickets affected) and whether `apply` would refuse it, and the
message box with the save button when it may be saved. `save(...)` saves through the
pipeline and answers with the outcome: the new version (and the commit) when saved;
the conflict (409), the errors (422) or the refusal (409) otherwise, nothing written.
Both take `page` (a full template and its context) for requests without htmx, which
get the whole page back with the fragment in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from starlette.responses import Response

from gongdan.bundle.edits import FileChange
from gongdan.engine import (
    Account,
    ConfigEditor,
    EditConflict,
    Proposal,
    Saved,
    SaveRefused,
)
from gongdan.errors import ConfigError, ValidationFailed
from gongdan.ui.render import is_htmx, redirect, render, render_fragment
from gongdan.ui.routes.admin.access import author_of

__all__ = [
    "PROPOSAL",
    "answer",
    "hex_only",
    "outcome_context",
    "review",
    "save",
    "typed_text",
]

PROPOSAL = "admin/_proposal.html"


def hex_only(value: str) -> str:
    """A version or commit id from a query string ("" unless it is one): a link cannot
    make the page say anything else was saved."""
    return value if re.fullmatch(r"[0-9a-f]{4,64}", value) else ""


def typed_text(text: str) -> str:
    """A textarea's text as the file gets it: a browser posts CRLF line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if not text or text.endswith("\n") else text + "\n"


def outcome_context(
    *,
    proposal: Proposal | None = None,
    saved: Saved | None = None,
    conflict: Sequence[str] = (),
    problem: str = "",
    message: str = "",
    action: str = "",
) -> dict[str, Any]:
    """What `_proposal.html` shows (`action`: where its save button posts)."""
    return {
        "proposal": proposal,
        "saved": saved,
        "conflict": tuple(conflict),
        "problem": problem,
        "message": message,
        "save_action": action,
    }


def answer(
    request: Request,
    outcome: dict[str, Any],
    page: tuple[str, Mapping[str, Any]] | None,
    status_code: int,
) -> Response:
    """The proposal fragment (htmx, or no `page`), else the whole `page` with it."""
    if page is None or is_htmx(request):
        return render_fragment(request, PROPOSAL, outcome, status_code=status_code)
    template, context = page
    return render(request, template, {**context, **outcome}, status_code=status_code)


def review(
    request: Request,
    editor: ConfigEditor,
    changes: Sequence[FileChange],
    *,
    action: str,
    message: str = "",
    page: tuple[str, Mapping[str, Any]] | None = None,
) -> Response:
    """Answer with the proposal of `changes` (see the module's docstring)."""
    try:
        proposal = editor.propose(changes)
    except (ValidationFailed, ConfigError) as error:
        outcome = outcome_context(problem=str(error), message=message, action=action)
        return answer(request, outcome, page, 422)
    outcome = outcome_context(
        proposal=proposal, conflict=proposal.conflicts, message=message, action=action
    )
    return answer(request, outcome, page, 200 if proposal.ok else 422)


def save(
    request: Request,
    editor: ConfigEditor,
    changes: Sequence[FileChange],
    account: Account,
    message: str,
    *,
    action: str,
    page: tuple[str, Mapping[str, Any]] | None = None,
    done: str | None = None,
) -> Response:
    """Save `changes` as `account` with `message` and answer with the outcome, or
    send the browser to `done` (with `?saved=VERSION`) once saved: a page that shows
    the files again must show them with their new bases."""
    try:
        saved = editor.save(changes, author_of(account), message)
    except EditConflict as conflict:
        outcome = outcome_context(conflict=conflict.paths, message=message, action=action)
        return answer(request, outcome, page, 409)
    except SaveRefused as refused:
        status = 409 if refused.proposal.refusal else 422
        outcome = outcome_context(proposal=refused.proposal, message=message, action=action)
        return answer(request, outcome, page, status)
    except (ValidationFailed, ConfigError) as error:
        outcome = outcome_context(problem=str(error), message=message, action=action)
        return answer(request, outcome, page, 422)
    if done is not None:
        joiner = "&" if "?" in done else "?"
        commit = f"&commit={saved.commit.sha[:12]}" if saved.commit is not None else ""
        return redirect(request, f"{done}{joiner}saved={saved.promotion.version}{commit}")
    return answer(request, outcome_context(saved=saved, action=action), page, 200)
