"""`PerBundle`, the one cache of what a layer derives from a bundle: once per version,
whatever object carries it, the few versions asked for last, computed once under load."""

from __future__ import annotations

import dataclasses
import threading
import time
from types import MappingProxyType

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.derived import PerBundle

EMPTY = Bundle(
    version="v1",
    ticket_types=MappingProxyType({}),
    workflows=MappingProxyType({}),
    calendars=MappingProxyType({}),
    sla_policies=(),
    routing_rules=(),
    automations=MappingProxyType({}),
    teams=MappingProxyType({}),
)


def version(name: str) -> Bundle:
    return dataclasses.replace(EMPTY, version=name)


class Counting:
    def __init__(self) -> None:
        self.computed: list[str] = []

    def __call__(self, bundle: Bundle) -> str:
        self.computed.append(bundle.version)
        return f"derived from {bundle.version}"


def test_a_value_is_computed_once_per_version_whatever_object_carries_it() -> None:
    compute = Counting()
    derived = PerBundle(compute)
    assert derived(version("a")) == "derived from a"
    assert derived(version("a")) == "derived from a"  # another object, the same files
    assert derived(version("b")) == "derived from b"
    assert compute.computed == ["a", "b"]


def test_only_the_versions_asked_for_last_are_kept() -> None:
    compute = Counting()
    derived = PerBundle(compute, keep=2)
    for name in ("a", "b", "a", "c", "a", "b"):
        derived(version(name))
    # "b" was the oldest asked for when "c" came; "a" stayed, being asked for again.
    assert compute.computed == ["a", "b", "c", "b"]
    with pytest.raises(ValueError, match="at least one"):
        PerBundle(compute, keep=0)


def test_a_failed_computation_is_not_kept() -> None:
    calls = []

    def compute(bundle: Bundle) -> str:
        calls.append(bundle.version)
        if len(calls) == 1:
            raise RuntimeError("broken template")
        return "ok"

    derived = PerBundle(compute)
    with pytest.raises(RuntimeError):
        derived(EMPTY)
    assert derived(EMPTY) == "ok"
    assert calls == ["v1", "v1"]


def test_threads_asking_at_once_compute_it_once() -> None:
    compute = Counting()

    def slow(bundle: Bundle) -> str:
        time.sleep(0.05)
        return compute(bundle)

    derived = PerBundle(slow)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(derived(EMPTY))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["derived from v1"] * 8
    assert compute.computed == ["v1"]
