"""The one shape of a cache of what is derived from the config: kept per bundle version.

What the engine looks up in the config on every write is derived when the bundle is
made and held by the compiled `Bundle` itself (`compiled.py`: the routing rules' keys,
the SLA policy per type and priority…): that is the first choice for anything derived
from the config alone. What a layer above derives with means of its own and keeps
between calls (mail templates compiled by Jinja2, say) is kept in a `PerBundle`:

- keyed by the bundle's `version`, a hash of its files' content: a reload of the same
  files finds what was derived from them, and a new bundle never gets an old one's
  values (an `id()` of an object that has been freed is handed to the next one made);
- bounded: a process serves one bundle, and in the seconds after a change also the one
  before it (requests in flight keep the bundle they started with), so a few versions
  are kept and the oldest is dropped first;
- computed at most once per version, under a lock (a web worker's threads ask at once
  after a reload).

Caches of data (a team's members, recognised tokens) are not derived from the config
and are keyed by what says they changed, never by the bundle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from gongdan.bundle.compiled import Bundle

__all__ = ["PerBundle"]

_T = TypeVar("_T")


class PerBundle(Generic[_T]):
    """`compute(bundle)`, computed once per bundle version and kept for the `keep`
    versions asked for most recently: `templates = PerBundle(MailTemplates)`, then
    `templates(bundle)` wherever they are needed."""

    def __init__(self, compute: Callable[[Bundle], _T], *, keep: int = 8) -> None:
        if keep < 1:
            raise ValueError("a PerBundle keeps at least one version")
        self._compute = compute
        self._keep = keep
        self._values: dict[str, _T] = {}
        self._lock = threading.Lock()

    def __call__(self, bundle: Bundle) -> _T:
        with self._lock:
            if bundle.version in self._values:
                value = self._values.pop(bundle.version)  # (back to the newest end)
            else:
                value = self._compute(bundle)
                while len(self._values) >= self._keep:
                    del self._values[next(iter(self._values))]  # the oldest asked for
            self._values[bundle.version] = value
            return value
