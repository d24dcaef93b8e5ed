"""Durations as config writes them: `30m`, `4h`, `3d`, `1d4h`, `2w`.

Days are kept apart from the rest because in an SLA target `1d` means one *working*
day of the policy's calendar, not 24 hours; `Duration.total_seconds(day_seconds=...)`
lets the SLA code say how long its day is. Everywhere else a day is 24 hours
(`Duration.as_timedelta`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

__all__ = [
    "DURATION_PATTERN",
    "MAX_DURATION_DAYS",
    "MAX_DURATION_LENGTH",
    "Duration",
    "parse_duration",
]

MAX_DURATION_DAYS = 36_500  # a hundred years: anything longer in config is a typo
MAX_DURATION_LENGTH = 32

# Each unit at most once, largest first, at most six digits each. Optional groups in a
# row with no nested quantifier: matching is linear in the length of the text.
DURATION_PATTERN = (
    "^(?:([0-9]{1,6})w)?(?:([0-9]{1,6})d)?(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,6})s)?$"
)
_DURATION_RE = re.compile(DURATION_PATTERN)

_HINT = "use a number and a unit, like 30m, 4h, 3d or 1d4h (units w, d, h, m, s, largest first)"
_UNIT_SECONDS = (("h", 3600), ("m", 60), ("s", 1))


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time: whole days (calendar or working, the caller decides) plus seconds."""

    days: int = 0
    seconds: int = 0

    def __post_init__(self) -> None:
        if self.days < 0 or self.seconds < 0:
            raise ValueError(
                f"a duration cannot be negative: days={self.days}, seconds={self.seconds}"
            )

    def total_seconds(self, day_seconds: int = 86400) -> int:
        """Return the length in seconds, counting each day as `day_seconds` long."""
        return self.days * day_seconds + self.seconds

    def as_timedelta(self) -> timedelta:
        """Return the length with calendar days of 24 hours."""
        return timedelta(days=self.days, seconds=self.seconds)

    def __str__(self) -> str:
        parts = [f"{self.days}d"] if self.days else []
        rest = self.seconds
        for unit, size in _UNIT_SECONDS:
            count, rest = divmod(rest, size)
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts) or "0s"


def parse_duration(text: str) -> Duration:
    """Parse config text such as `30m`, `1d4h` or `2w` into a `Duration`.

    Raises `ValueError` with a message fit for a config error when the text is not a
    duration, is longer than 32 characters, is zero or is longer than 36,500 days.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    if len(text) > MAX_DURATION_LENGTH:
        raise ValueError(
            f"invalid duration '{text[:MAX_DURATION_LENGTH]}…': "
            f"longer than {MAX_DURATION_LENGTH} characters"
        )
    match = _DURATION_RE.fullmatch(text)
    if match is None or not text:
        raise ValueError(f"invalid duration '{text}': {_HINT}")
    weeks, days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    duration = Duration(days=weeks * 7 + days, seconds=hours * 3600 + minutes * 60 + seconds)
    if duration == Duration():
        raise ValueError(f"invalid duration '{text}': a duration must be longer than zero")
    if duration.total_seconds() > MAX_DURATION_DAYS * 86400:
        raise ValueError(f"invalid duration '{text}': longer than {MAX_DURATION_DAYS} days")
    return duration
