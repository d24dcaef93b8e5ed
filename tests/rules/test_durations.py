"""Tests of config durations: `30m`, `4h`, `3d`, `1d4h`, `2w`."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongdan.rules.durations import DURATION_PATTERN, Duration, parse_duration

HINT = "use a number and a unit, like 30m, 4h, 3d or 1d4h (units w, d, h, m, s, largest first)"


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("30m", Duration(seconds=1800), "30m"),
        ("4h", Duration(seconds=14400), "4h"),
        ("3d", Duration(days=3), "3d"),
        ("1d4h", Duration(days=1, seconds=14400), "1d4h"),
        ("2w", Duration(days=14), "14d"),
        ("90s", Duration(seconds=90), "1m30s"),
        ("1h30m", Duration(seconds=5400), "1h30m"),
        ("36h", Duration(seconds=129600), "36h"),  # hours never turn into (working) days
        ("1w2d3h4m5s", Duration(days=9, seconds=3 * 3600 + 4 * 60 + 5), "9d3h4m5s"),
        ("0d1s", Duration(seconds=1), "1s"),
        ("007m", Duration(seconds=420), "7m"),
        ("5214w2d", Duration(days=36_500), "36500d"),
        ("876000h", Duration(seconds=876_000 * 3600), "876000h"),
    ],
)
def test_valid(text: str, expected: Duration, canonical: str) -> None:
    duration = parse_duration(text)
    assert duration == expected
    assert str(duration) == canonical
    assert parse_duration(canonical) == duration


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4x", f"invalid duration '4x': {HINT}"),
        ("", f"invalid duration '': {HINT}"),
        ("h", f"invalid duration 'h': {HINT}"),
        ("4", f"invalid duration '4': {HINT}"),
        ("4h30", f"invalid duration '4h30': {HINT}"),
        ("30m4h", f"invalid duration '30m4h': {HINT}"),  # largest unit first
        ("4h4h", f"invalid duration '4h4h': {HINT}"),  # each unit once
        (" 4h", f"invalid duration ' 4h': {HINT}"),
        ("4h ", f"invalid duration '4h ': {HINT}"),
        ("4 h", f"invalid duration '4 h': {HINT}"),
        ("4h\n", f"invalid duration '4h\n': {HINT}"),
        ("-4h", f"invalid duration '-4h': {HINT}"),
        ("4.5h", f"invalid duration '4.5h': {HINT}"),
        ("4H", f"invalid duration '4H': {HINT}"),
        ("1y", f"invalid duration '1y': {HINT}"),
        ("٣h", f"invalid duration '٣h': {HINT}"),  # only ASCII digits
        ("1234567h", f"invalid duration '1234567h': {HINT}"),  # at most six digits a unit
        ("0m", "invalid duration '0m': a duration must be longer than zero"),
        ("0w0d0h0m0s", "invalid duration '0w0d0h0m0s': a duration must be longer than zero"),
        ("1" * 33 + "h", f"invalid duration '{'1' * 32}…': longer than 32 characters"),
        ("36501d", "invalid duration '36501d': longer than 36500 days"),
        ("876000h1s", "invalid duration '876000h1s': longer than 36500 days"),
        ("999999w999999d", "invalid duration '999999w999999d': longer than 36500 days"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(text)
    assert str(raised.value) == message


@pytest.mark.parametrize("value", [None, 30, 1.5, ["4h"]])
def test_not_text(value: object) -> None:
    with pytest.raises(ValueError, match=r"^invalid duration"):
        parse_duration(value)  # type: ignore[arg-type]


def test_hostile_input_is_rejected_fast() -> None:
    started = time.perf_counter()
    for text in ("1" * 32, "1w" * 16, "9" * 31 + "x", "0" * 10_000_000):
        with pytest.raises(ValueError):
            parse_duration(text)
    assert time.perf_counter() - started < 0.5


def test_seconds_with_calendar_and_working_days() -> None:
    duration = parse_duration("1d4h")
    assert duration.total_seconds() == 86400 + 4 * 3600
    assert duration.total_seconds(day_seconds=8 * 3600) == 12 * 3600  # working day of 8h
    assert duration.as_timedelta() == timedelta(days=1, hours=4)


def test_duration_is_a_frozen_value() -> None:
    assert Duration() == Duration(0, 0)
    assert str(Duration()) == "0s"
    assert hash(parse_duration("2w")) == hash(parse_duration("14d"))
    with pytest.raises(AttributeError):
        parse_duration("1h").seconds = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="cannot be negative"):
        Duration(days=-1)


def test_pattern_is_usable_in_json_schema() -> None:
    # The same pattern, anchored, works in JSON Schema for editors.
    assert re.fullmatch(DURATION_PATTERN, "1d4h")
    assert not re.search(DURATION_PATTERN, "4h\n4h")


@settings(max_examples=200, database=None, derandomize=True)
@given(days=st.integers(0, 36_500), seconds=st.integers(0, 36_500 * 86400))
def test_text_round_trips(days: int, seconds: int) -> None:
    duration = Duration(days, seconds)
    if duration == Duration() or duration.total_seconds() > 36_500 * 86400:
        return
    assert parse_duration(str(duration)) == duration
