"""Linear-time regular expressions for admin-written field patterns.

A field's `pattern` is written by an admin and matched against text any user types.
With a backtracking engine (Python's `re`) a pattern such as `^(a+)+$` takes
exponential time on `"a" * 50 + "!"`, so one careless pattern would let any requester
hang a worker. Patterns here are compiled with RE2, which matches in time linear in
the input and rejects the features that need backtracking (look-around,
back-references). `RE2Validator` is a draft 2020-12 JSON Schema validator whose
`pattern` and `patternProperties` keywords use the same engine.

`describe_schema_error` words the validator's errors for the people who typed the value.

Patterns keep JSON Schema's meaning: they match anywhere in the value (a search), so
anchor them with `^…$` to constrain the whole value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend

__all__ = [
    "MAX_PATTERN_LENGTH",
    "Pattern",
    "RE2Validator",
    "compile_pattern",
    "describe_schema_error",
    "error_order",
    "pattern_example",
    "pattern_message",
]

MAX_PATTERN_LENGTH = 1000

# RE2 reports problems in its own words; these are the ones an admin is likely to meet,
# said in terms of what they wrote rather than of RE2's parser.
_UNSUPPORTED = {
    "invalid perl operator: (?=": "look-ahead (?=…)",
    "invalid perl operator: (?!": "negative look-ahead (?!…)",
    "invalid perl operator: (?<=": "look-behind (?<=…)",
    "invalid perl operator: (?<!": "negative look-behind (?<!…)",
    "invalid perl operator: (?>": "atomic groups (?>…)",
}
_SYNTAX_HINT = "patterns use RE2 syntax: no look-around or back-references"


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled RE2 pattern; `search` says whether it matches anywhere in `text`."""

    source: str
    _regexp: Any

    def search(self, text: str) -> bool:
        """Return True when the pattern matches somewhere in `text` (JSON Schema semantics)."""
        return self._regexp.search(text) is not None

    def __str__(self) -> str:
        return self.source


def _options() -> Any:
    options = re2.Options()
    # Invalid patterns are reported to the admin as ValueError; RE2 would also log them.
    options.log_errors = False
    return options


def _explain(reason: str) -> str:
    for prefix, feature in _UNSUPPORTED.items():
        if reason.startswith(prefix):
            return f"uses {feature}, which is not supported ({_SYNTAX_HINT})"
    if reason.startswith("invalid escape sequence: \\") and reason[-1:].isdigit():
        return f"uses a back-reference, which is not supported ({_SYNTAX_HINT})"
    return f"is not a valid pattern: {reason} ({_SYNTAX_HINT})"


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern:
    """Compile an admin-written pattern with RE2.

    Raises ValueError with a message an admin understands ("uses look-ahead (?=…), which
    is not supported …") when the pattern is not text, is too long, or is not valid RE2.
    """
    if not isinstance(pattern, str):
        raise ValueError("must be text")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        regexp = re2.compile(pattern, _options())
    except re2.error as error:
        raw = error.args[0] if error.args else ""
        reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise ValueError(_explain(reason)) from None
    return Pattern(pattern, regexp)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not compile_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        compiled = compile_pattern(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


RE2Validator: Any = extend(
    Draft202012Validator,
    validators={"pattern": _pattern, "patternProperties": _pattern_properties},
)
RE2Validator.__doc__ = "Draft 2020-12 validator whose `pattern` keywords match with RE2."


def error_order(error: ValidationError) -> tuple[list[tuple[int, Any]], int]:
    """Sort key for jsonschema errors: by where they are, a wrong type first."""
    # List indexes and property names never share a level, but keep them apart anyway.
    where = [(0, part) if isinstance(part, int) else (1, str(part)) for part in error.path]
    return (where, 0 if error.validator == "type" else 1)


_TYPE_NAMES = {
    "array": "a list",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "object": "a mapping",
    "string": "text",
}


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _choices(values: Sequence[Any]) -> str:
    shown = ", ".join(str(v) for v in values[:12])
    return shown + (", …" if len(values) > 12 else "")


# One step of a simple pattern (our own fixed expression, so Python's `re` is safe):
# a character set, \d or \w, or a literal, with an optional count.
_SIMPLE_TOKEN = re.compile(
    r"(\[(?P<set>[^\]]+)\]|\\(?P<escape>[dw])|(?P<literal>[A-Za-z0-9 _.:/@#-]))"
    r"(?:\{(?P<low>\d+)(?:,\d*)?\}|(?P<plus>[+*?]))?"
)
_SAMPLES = {"A": "ABCDEFGHJKLMNPQRSTUVWXYZ", "a": "abcdefghjkmnpqrstuvwxyz", "0": "1234567890"}


def pattern_example(pattern: str) -> str | None:
    """A short value matching a simple pattern (character sets, literals and counts,
    like `^[A-Z]{2}[0-9]{8,18}$` → `AB12345678`), or None for anything else."""
    body = pattern.removeprefix("^").removesuffix("$")
    out, position = [], 0
    while position < len(body):
        token = _SIMPLE_TOKEN.match(body, position)
        if token is None:
            return None
        position = token.end()
        count = int(token["low"]) if token["low"] else (0 if token["plus"] in ("*", "?") else 1)
        chars = token["set"] or {"d": "0-9", "w": "A-Za-z0-9"}.get(token["escape"] or "", "")
        if token["literal"]:
            out.append(token["literal"] * count)
            continue
        first = chars[0]
        sample = next((v for k, v in _SAMPLES.items() if k <= first <= chr(ord(k) + 25)), first)
        out.append("".join(sample[i % len(sample)] for i in range(count)))
    example = "".join(out)
    try:
        return example if example and compile_pattern(pattern).search(example) else None
    except ValueError:
        return None


def pattern_message(pattern: str) -> str:
    """What a pattern asks, without showing the regex: an example when one can be made."""
    example = pattern_example(pattern)
    return f"must look like {example}" if example else "is not in the expected format"


def describe_schema_error(error: ValidationError) -> str:
    """A jsonschema error in words a user understands ("must be at most 100")."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    plural = "" if expected == 1 else "s"
    messages: dict[str, Callable[[], str]] = {
        "const": lambda: f"must be {expected}",
        "enum": lambda: f"'{instance}' is not one of: {_choices(expected)}",
        "exclusiveMaximum": lambda: f"must be less than {_number(expected)}",
        "exclusiveMinimum": lambda: f"must be greater than {_number(expected)}",
        "maxItems": lambda: f"must have at most {expected} item{plural}",
        "maxLength": lambda: f"must be at most {expected} character{plural}",
        "maximum": lambda: f"must be at most {_number(expected)}",
        "minItems": lambda: f"must have at least {expected} item{plural}",
        "minLength": lambda: f"must be at least {expected} character{plural}",
        "minimum": lambda: f"must be at least {_number(expected)}",
        "pattern": lambda: pattern_message(str(expected)),
        "required": lambda: "is required",
        "type": lambda: f"must be {_TYPE_NAMES.get(str(expected), str(expected))}",
        "uniqueItems": lambda: "must not list the same value twice",
    }
    message = messages.get(str(keyword))
    return message() if message else str(error.message)
