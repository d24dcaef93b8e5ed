"""HTML mail bodies as plain text, with the standard library's HTML parser; and our
own plain-text mails as their HTML part (`text_to_html`).

Nothing is rendered or fetched: tags are dropped, block elements become line breaks,
list items get a bullet, links keep their address, and the content of `script`,
`style`, `head` and similar elements is thrown away. The result is stored as text (and
escaped wherever it is shown), so no markup from a mail ever reaches a page.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

__all__ = ["html_to_text", "text_to_html"]

BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "br", "div", "dl", "dt", "dd", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section",
        "table", "tr", "ul",
    }
)  # fmt: skip
SKIPPED = frozenset({"head", "script", "style", "template", "title", "noscript", "object"})
MAX_CHARS = 200_000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.href: str | None = None
        self.size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self._add("\n")
            if tag == "li":
                self._add("- ")
        elif tag in ("td", "th"):
            self._add("\t")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS and tag != "li":  # the next item starts its own line
            self._add("\n")
        elif tag == "a":
            href, self.href = self.href, None
            if href and href.startswith(("http://", "https://", "mailto:")):
                self._add(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self._add(re.sub(r"\s+", " ", data))

    def _add(self, text: str) -> None:
        if self.size < MAX_CHARS:
            self.parts.append(text)
            self.size += len(text)


def html_to_text(html: str) -> str:
    """The readable text of an HTML document or fragment."""
    parser = _Text()
    parser.feed(html[: MAX_CHARS * 5])
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip(" ") for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_URL = re.compile(r"https?://[^\s<>\"']+")


def text_to_html(text: str, locale: str) -> str:
    """The HTML part of a notification: its text exactly as the plain part has it
    (escaped: a title or comment with markup shows as typed), paragraphs at blank
    lines, line breaks kept, web addresses as links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.split("\n"):
            parts, at = [], 0
            for found in _URL.finditer(line):
                url = found.group(0).rstrip(".,;:!?)")
                parts.append(escape(line[at : found.start()]))
                parts.append(f'<a href="{escape(url)}">{escape(url)}</a>')
                at = found.start() + len(url)
            parts.append(escape(line[at:]))
            lines.append("".join(parts))
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(locale)}"><head><meta charset="utf-8"></head>'
        '<body style="font-family: sans-serif; font-size: 15px; line-height: 1.5; '
        'color: #1f2328">\n' + "\n".join(paragraphs) + "\n</body></html>\n"
    )
