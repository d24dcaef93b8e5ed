"""Admin-written patterns run on RE2: linear time, clear errors, JSON Schema semantics."""

from __future__ import annotations

import time

import pytest
from jsonschema import ValidationError

from gongdan.forms.patterns import (
    MAX_PATTERN_LENGTH,
    RE2Validator,
    compile_pattern,
    describe_schema_error,
    pattern_example,
    pattern_message,
)

CATASTROPHIC = [
    ("^(a+)+$", "a" * 5000 + "!"),
    ("^(a|aa)+$", "a" * 5000 + "!"),
    ("^(a|a?)+$", "a" * 5000 + "!"),
    ("^(\\w+\\s?)*$", "word " * 2000 + "!"),
    ("(x+x+)+y", "x" * 5000),
]


@pytest.mark.parametrize(("pattern", "text"), CATASTROPHIC)
def test_catastrophic_patterns_finish_quickly(pattern: str, text: str) -> None:
    compiled = compile_pattern(pattern)
    started = time.perf_counter()
    assert compiled.search(text) is False
    assert time.perf_counter() - started < 0.5


def test_patterns_match_anywhere_like_json_schema() -> None:
    assert compile_pattern("b").search("abc")
    assert not compile_pattern("^b").search("abc")
    # RE2's `$` is the end of the text: a trailing newline does not slip through.
    assert not compile_pattern("^abc$").search("abc\n")


def test_re2_syntax_beyond_python_re() -> None:
    assert compile_pattern("^\\p{Han}+$").search("工单")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?<=a)b", "uses look-behind (?<=…), which is not supported"),
        ("(?<!a)b", "uses negative look-behind (?<!…), which is not supported"),
        ("a(?!b)", "uses negative look-ahead (?!…), which is not supported"),
        ("(a)\\1", "uses a back-reference, which is not supported"),
        ("a{2,1}", "is not a valid pattern: invalid repetition size: {2,1}"),
        ("(ab", "is not a valid pattern: missing ): (ab"),
        (42, "must be text"),
        ("a" * (MAX_PATTERN_LENGTH + 1), f"is longer than {MAX_PATTERN_LENGTH} characters"),
    ],
)
def test_invalid_patterns_say_what_is_wrong(pattern: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_pattern(pattern)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_invalid_patterns_are_reported_not_logged(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError):
        compile_pattern("[unclosed")
    assert capfd.readouterr().err == ""


def test_validator_uses_re2_for_pattern_keywords() -> None:
    validator = RE2Validator(
        {
            "type": "object",
            "properties": {"name": {"type": "string", "pattern": "^\\p{Han}+$"}},
            "patternProperties": {"^\\p{Lu}": {"type": "integer"}},
        }
    )
    assert validator.is_valid({"name": "工单", "Ä": 1})
    assert not validator.is_valid({"name": "ticket"})
    assert not validator.is_valid({"Ä": "one"})
    started = time.perf_counter()
    assert not RE2Validator({"pattern": "^(a+)+$"}).is_valid("a" * 5000 + "!")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ({"maximum": 100}, 101, "must be at most 100"),
        ({"minimum": 0.5}, 0, "must be at least 0.5"),
        ({"exclusiveMinimum": 0}, 0, "must be greater than 0"),
        ({"exclusiveMaximum": 10.0}, 10, "must be less than 10"),
        ({"maxLength": 1}, "ab", "must be at most 1 character"),
        ({"minLength": 2}, "a", "must be at least 2 characters"),
        ({"pattern": "^E[0-9]{3}$"}, "E1", "must look like E123"),
        ({"enum": ["hardware", "software"]}, "foo", "'foo' is not one of: hardware, software"),
        ({"type": "integer"}, "x", "must be a whole number"),
        ({"type": "array"}, "x", "must be a list"),
        ({"uniqueItems": True}, [1, 1], "must not list the same value twice"),
        ({"maxItems": 2}, [1, 2, 3], "must have at most 2 items"),
        ({"const": "yes"}, "no", "must be yes"),
    ],
)
def test_schema_errors_in_words(schema: dict[str, object], value: object, message: str) -> None:
    errors: list[ValidationError] = list(RE2Validator(schema).iter_errors(value))
    assert [describe_schema_error(error) for error in errors] == [message]


def test_long_option_lists_are_shortened() -> None:
    options = [f"option{i}" for i in range(20)]
    (error,) = RE2Validator({"enum": options}).iter_errors("nope")
    assert describe_schema_error(error).endswith("option11, …")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("^[A-Z]{2}[0-9]{8,18}$", "must look like AB12345678"),
        ("^SN[0-9]{10}$", "must look like SN1234567890"),
        (r"^\d{6}$", "must look like 123456"),
        ("^(a|b)+$", "is not in the expected format"),  # no example: still no regex shown
    ],
)
def test_pattern_messages_show_an_example_never_the_regex(pattern: str, message: str) -> None:
    assert pattern_message(pattern) == message
    example = pattern_example(pattern)
    assert example is None or compile_pattern(pattern).search(example)
