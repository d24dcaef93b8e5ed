"""Text field types: text, textarea, markdown, email, phone and url."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from gongdan.rules.conditions import FieldInfo

from ..fields import FieldDef, FieldProblem, FieldType, register_field_type
from ._input import EMAIL, as_email, as_text, matching

__all__ = ["EmailType", "MarkdownType", "PhoneType", "TextType", "TextareaType", "UrlType"]

_PHONE = r"^\+?[0-9(][0-9 ()./-]{0,30}[0-9]$"
_URL = r"^https?://[^\s/?#]+([/?#][^\s]*)?$"


class _TextLike(FieldType):
    """Free text honouring min_length, max_length and pattern."""

    allowed_params = frozenset({"max_length", "min_length", "pattern"})
    filter_operators: ClassVar[tuple[str, ...]] = (
        "eq",
        "ne",
        "in",
        "contains",
        "starts_with",
        "empty",
    )
    default_max_length: ClassVar[int] = 1000
    text_search = True
    format: ClassVar[tuple[str, str] | None] = None  # (JSON Schema format, pattern)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.format:
            schema["format"], builtin = self.format
            schema["allOf"] = [{"pattern": builtin}]
        schema["maxLength"] = field.params.get("max_length", self.default_max_length)
        for param, keyword in (("min_length", "minLength"), ("pattern", "pattern")):
            if param in field.params:
                schema[keyword] = field.params[param]
        return schema

    def check_params(self, raw: Mapping[str, Any]) -> list[FieldProblem]:
        low = raw.get("min_length")
        if "max_length" not in raw and isinstance(low, int) and low > self.default_max_length:
            message = f"is more than the {self.default_max_length} characters a {self.name} takes"
            return [FieldProblem(("min_length",), message + "; set max_length too")]
        return []

    def parse(self, field: FieldDef, value: Any) -> Any:
        return as_text(value).strip()

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("string")


@register_field_type
class TextType(_TextLike):
    name = "text"
    template = "fields/text.html"


@register_field_type
class TextareaType(_TextLike):
    name = "textarea"
    template = "fields/textarea.html"
    default_max_length = 50_000
    quick_filter = False  # nobody filters by typing a whole long text

    def parse(self, field: FieldDef, value: Any) -> Any:
        # Browsers post CRLF; keep indentation on the first line, drop blank edges.
        text = as_text(value).replace("\r\n", "\n").replace("\r", "\n")
        return text.rstrip().lstrip("\n")


@register_field_type
class MarkdownType(TextareaType):
    name = "markdown"
    template = "fields/markdown.html"
    default_max_length = 100_000


@register_field_type
class EmailType(_TextLike):
    name = "email"
    template = "fields/email.html"
    filter_operators = ("eq", "ne", "in", "contains", "empty")
    default_max_length = 254
    format = ("email", EMAIL)

    def parse(self, field: FieldDef, value: Any) -> Any:
        return as_email(value)


@register_field_type
class PhoneType(_TextLike):
    name = "phone"
    template = "fields/phone.html"
    filter_operators = ("eq", "contains", "starts_with", "empty")
    default_max_length = 32
    format = ("phone", _PHONE)

    def parse(self, field: FieldDef, value: Any) -> Any:
        text = " ".join(as_text(value).split())
        matching(text, _PHONE, "is not a valid phone number")
        if not 3 <= sum(c.isdigit() for c in text) <= 17:
            raise ValueError("is not a valid phone number")
        return text


@register_field_type
class UrlType(_TextLike):
    name = "url"
    template = "fields/url.html"
    filter_operators = ("eq", "contains", "starts_with", "empty")
    default_max_length = 2048
    format = ("uri", _URL)

    def parse(self, field: FieldDef, value: Any) -> Any:
        text = as_text(value).strip()
        try:
            parts = urlsplit(text)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("must be a web address starting with http:// or https://")
        text = parts.scheme.lower() + text[len(parts.scheme) :]
        return matching(text, _URL, "must be a web address without spaces")
