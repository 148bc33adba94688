"""Every real-world document in ../shared/specs/real becomes valid tools.

The documents were written by others (see that folder's MANIFEST.md); each
must load without network access, give one tool per operation with a valid,
unique name, and input schemas that are valid JSON Schema and compile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest

from ourguide_caller import (
    Integration,
    OperationFilter,
    to_anthropic,
    to_mcp,
    to_openai,
)
from ourguide_caller._refs import RefResolver, join_pointer
from ourguide_caller._tools import METHODS

REAL = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ROW = re.compile(r"^\| \d+ \| ([\w.-]+) \| `([^`]+?)(?: \(\+\d+ files\))?`")


def _corpus() -> list[tuple[str, Path]]:
    """(name, root file) for every document the MANIFEST lists."""
    manifest = REAL / "MANIFEST.md"
    if not manifest.exists():
        return []
    entries = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            entries.append((match.group(1), REAL / match.group(1) / match.group(2)))
    return entries


CORPUS = _corpus()
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS, reason=f"no real-world specs at {REAL}"),
]


def _operation_count(integration: Integration) -> int:
    document = integration.spec.document
    resolver = RefResolver(
        document,
        source="",
        broken_refs=integration.spec.broken_refs,
        anchors=integration.spec.anchors,
    )
    count = 0
    for path, item in (document.get("paths") or {}).items():
        item, _ = resolver.deref(item, join_pointer("/paths", path))
        if isinstance(item, Mapping):
            count += sum(1 for m in METHODS if isinstance(item.get(m), Mapping))
    return count


def test_manifest_lists_the_whole_corpus():
    """The MANIFEST parser finds all 35 documents, and each root file exists."""
    assert 35 == len(CORPUS)
    assert [] == [str(path) for _, path in CORPUS if not path.is_file()]


@pytest.mark.parametrize(("name", "path"), CORPUS, ids=[n for n, _ in CORPUS])
def test_real_spec_becomes_valid_tools(name: str, path: Path):
    """One tool per operation, valid unique names, valid compilable schemas."""
    integration = Integration(
        path,
        name=name,
        base_url="https://api.example.test",
        operations=OperationFilter(include_deprecated=True),
        spec_root_dir=REAL / name,
    )
    tools = integration.tools
    names = [tool.name for tool in tools]

    # Spotify's published spec refers to a policies file it does not publish.
    dangling = {"../policies.yaml"} if name == "spotify" else set()
    assert dangling == set(integration.spec.broken_refs)
    assert _operation_count(integration) == len(tools)
    assert [] == [op.skipped for op in integration.report.skipped]
    assert [] == [n for n in names if not VALID_NAME.match(n)]
    assert len(names) == len(set(names))
    for tool in tools:
        jsonschema_rs.meta.validate({"$schema": DRAFT_2020_12, **tool.input_schema})
        jsonschema_rs.validator_for(tool.input_schema)
    # A second, independent meta-schema check where it is cheap enough.
    for tool in tools[:40]:
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
    assert len(tools) == len(to_openai(tools, max_tools=None))
    assert len(tools) == len(to_anthropic(tools))
    assert len(tools) == len(to_mcp(tools))
