"""Whatever the input, the loader answers with issues, never with a crash.

Arbitrary text and bytes go through the YAML reader; mutated copies of a valid bundle
(values swapped for other names from the same bundle, keys dropped, values of the
wrong shape) go through the whole pipeline, which is where a schema-valid but broken
document could trip the cross-reference pass.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongdan.bundle.loader import check_bundle_sources
from gongdan.bundle.yamlio import parse_documents
from gongdan.errors import ConfigError
from tests.bundles import MINIMAL

SOURCES = [(str(p.relative_to(MINIMAL)), p.read_bytes()) for p in sorted(MINIMAL.rglob("*.yaml"))]
DOCS = [(name, list(yaml.safe_load_all(content))) for name, content in SOURCES]


def _scalars(value: Any, out: set[Any]) -> set[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _scalars(v, out)
    elif isinstance(value, list):
        for v in value:
            _scalars(v, out)
    elif isinstance(value, (str, int, float, bool)) or value is None:
        out.add(value)
    return out


VOCABULARY = sorted(
    {v for _, docs in DOCS for d in docs for v in _scalars(d, set())} - {True, False}, key=str
)
WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(VOCABULARY),
    st.lists(st.sampled_from(VOCABULARY), max_size=3),
    st.dictionaries(st.sampled_from(VOCABULARY).map(str), st.sampled_from(VOCABULARY), max_size=3),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_bundles(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    docs = copy.deepcopy(DOCS)
    for _ in range(draw(st.integers(1, 4))):
        file_index = draw(st.integers(0, len(docs) - 1))
        _, documents = docs[file_index]
        doc_index = draw(st.integers(0, len(documents) - 1))
        paths = [p for p in _paths(documents[doc_index]) if p]
        if not paths:  # an earlier mutation emptied this document
            continue
        path = draw(st.sampled_from(paths))
        parent = documents[doc_index]
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(WEIRD)
    return [
        (name, yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False).encode())
        for name, documents in docs
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_bundles())
def test_mutated_bundles_give_issues_not_crashes(sources: list[tuple[str, bytes]]) -> None:
    bundle, issues = check_bundle_sources(sources)
    if bundle is None:
        assert any(i.severity == "error" for i in issues)
    for issue in issues:
        assert issue.line >= 1 and issue.column >= 1 and issue.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_config_error(text: str) -> None:
    try:
        parse_documents(text, "fuzz.yaml")
    except ConfigError as error:
        assert error.issues


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_through_the_whole_loader(content: bytes) -> None:
    bundle, issues = check_bundle_sources([("fuzz.yaml", content), *SOURCES])
    assert bundle is not None or issues


YAMLISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=8),
        st.sampled_from(
            [
                "Workflow",
                "TicketType",
                "Team",
                "Calendar",
                "SLAPolicy",
                "RoutingRules",
                "Automation",
                "kind",
                "id",
                "states",
            ]
        ),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        ["Workflow", "TicketType", "Team", "Calendar", "SLAPolicy", "RoutingRules", "Automation"]
    ),
    st.dictionaries(st.sampled_from(VOCABULARY).map(str), YAMLISH, max_size=6),
)
def test_arbitrary_documents_of_every_kind(kind: str, body: dict[str, Any]) -> None:
    document = yaml.safe_dump({**body, "kind": kind}, allow_unicode=True).encode()
    bundle, issues = check_bundle_sources([("x/fuzz.yaml", document), *SOURCES])
    assert bundle is not None or issues


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_bundles())
def test_fast_and_explaining_validators_agree(sources: list[tuple[str, bytes]]) -> None:
    """jsonschema-rs decides validity on the fast path; jsonschema explains errors. They
    must agree on every document, or an invalid document could slip through."""
    from gongdan.bundle import schemas
    from gongdan.bundle.validate import _fast_validator_for, validator_for

    for name, content in sources:
        for doc in parse_documents(content, name):
            kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
            if kind not in schemas.KINDS:
                continue
            fast = _fast_validator_for(kind).is_valid(doc.data)
            full = not any(True for _ in validator_for(kind).iter_errors(doc.data))
            assert fast == full, (name, doc.data)
