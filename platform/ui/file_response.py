"""How a stored file is sent back: shown in the browser only when it is a picture (PNG,
JPEG, GIF, WebP) or a PDF whose bytes say so, downloaded otherwise.

The content type of an inline answer is decided here, from the type stored at upload
checked against the file's first bytes (its magic number): an HTML page or an SVG
uploaded as `image/png` starts with neither PNG's signature nor any other, so it is
sent as `application/octet-stream` with `attachment` disposition and never rendered.
SVG is never inline (it may carry script). Every answer has `nosniff`; an inline one
also `Content-Security-Policy: sandbox`, so even a browser that rendered it as a page
would run nothing in our origin (docs/security.md, "Files").
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

__all__ = ["file_response", "inline_type"]

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


def inline_type(content_type: str, content: bytes) -> str | None:
    """The type to show `content` inline as, or None: it is not a previewable file
    whose bytes are what its stored type says."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "image/webp":
        return kind if content[:4] == b"RIFF" and content[8:12] == b"WEBP" else None
    signatures = _SIGNATURES.get(kind, ())
    return kind if any(content.startswith(s) for s in signatures) else None


def _disposition(kind: str, filename: str) -> str:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(
    filename: str, content_type: str, content: bytes, *, download: bool = False
) -> Response:
    """The file as an answer: inline when previewable (and not `download`), else an
    attachment of type `application/octet-stream`."""
    shown = None if download else inline_type(content_type, content)
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Disposition": _disposition("inline" if shown else "attachment", filename),
    }
    if shown:
        headers["Content-Security-Policy"] = "sandbox"
    return Response(content, media_type=shown or "application/octet-stream", headers=headers)
