"""Markdown written by users (comments, descriptions) rendered to safe HTML.

markdown-it-py renders CommonMark with raw HTML switched off; nh3 (ammonia) then keeps
only a list of harmless tags and attributes, so nothing a user writes can run script
or restyle the page. Links open with `rel="noopener noreferrer nofollow"`.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_markdown"]

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    "table"
)
_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}
_MAX_LENGTH = 200_000


def render_markdown(text: str | None) -> Markup:
    """Sanitised HTML for Markdown `text` (very long text is cut, not rendered whole)."""
    if not text:
        return Markup("")
    html = _PARSER.render(text[:_MAX_LENGTH])
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
