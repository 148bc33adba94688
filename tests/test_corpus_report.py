"""The corpus report: rows, totals and the summary line it prints.

A tiny folder laid out without a MANIFEST holds one sound spec, one whose
request schema points nowhere (that operation is skipped), one that cannot
become tools at all (a failed row), and a fragment that is not a spec.
"""

from __future__ import annotations

import inspect
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ourguide_caller import Tool, to_mcp, to_openai
from ourguide_caller import _corpus as corpus_module
from ourguide_caller._corpus import (
    CorpusSummary,
    corpus_entries,
    corpus_report,
    export_problems,
    percent,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"

GOOD = """\
openapi: 3.0.3
info: {title: good, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses: {"200": {description: ok}}
    post:
      operationId: addPet
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses: {"201": {description: made}}
components:
  schemas:
    Pet:
      type: object
      properties: {name: {type: string}}
"""

# POST's body schema is a dangling $ref (skipped); PUT is deprecated (left
# out by the default filter).
BROKEN = """\
openapi: 3.0.3
info: {title: broken, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      responses: {"200": {description: ok}}
    post:
      operationId: makeThing
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Missing"}
      responses: {"201": {description: made}}
    put:
      operationId: replaceThing
      deprecated: true
      responses: {"200": {description: ok}}
"""

# Its only operation is broken, so no tool at all can be built: an error.
HOPELESS = {
    "swagger": "2.0",
    "info": {"title": "hopeless", "version": "1"},
    "paths": {
        "/x": {
            "post": {
                "parameters": [
                    {"name": "b", "in": "body", "schema": {"$ref": "#/definitions/No"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def _run(folder: Path) -> tuple[CorpusSummary, str]:
    output = io.StringIO()
    summary = corpus_report(folder, console=Console(file=output, width=200))
    return summary, output.getvalue()


@pytest.fixture(name="corpus")
def _corpus(tmp_path: Path) -> Path:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "openapi.yaml").write_text(GOOD, encoding="utf-8")
    # A fragment beside the spec is not a document of its own.
    (tmp_path / "good" / "pet.yaml").write_text("type: object\n", encoding="utf-8")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "api.yml").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "hopeless").mkdir()
    (tmp_path / "hopeless" / "swagger.json").write_text(
        json.dumps(HOPELESS), encoding="utf-8"
    )
    return tmp_path


def test_entries_without_manifest_are_the_specs_in_each_subfolder(corpus: Path):
    """Fragments without `openapi`/`swagger` at the top are not listed."""
    assert corpus_entries(corpus) == [
        ("broken", corpus / "broken" / "api.yml"),
        ("good", corpus / "good" / "openapi.yaml"),
        ("hopeless", corpus / "hopeless" / "swagger.json"),
    ]


def test_entries_come_from_the_manifest_when_there_is_one(tmp_path: Path):
    """The MANIFEST table names the root file, even of a multi-file spec."""
    (tmp_path / "MANIFEST.md").write_text(
        "| # | Name | Root file |\n|---|---|---|\n"
        "| 1 | one | `a.yaml` | x |\n"
        "| 2 | two | `spec/b.yaml (+4 files)` | y |\n",
        encoding="utf-8",
    )

    assert corpus_entries(tmp_path) == [
        ("one", tmp_path / "one" / "a.yaml"),
        ("two", tmp_path / "two" / "spec" / "b.yaml"),
    ]


def test_report_rows(corpus: Path):
    """Each spec's counts; the one that cannot be built is an error row."""
    summary, output = _run(corpus)
    rows = {row.name: row for row in summary.rows}

    good = rows["good"]
    assert (good.version, good.operations, good.tools, good.skipped) == (
        "3.0.3",
        2,
        2,
        0,
    )
    assert (good.schemas_valid, good.rejected, good.error) == (2, 0, None)
    assert good.milliseconds > 0

    broken = rows["broken"]
    assert (broken.operations, broken.tools, broken.skipped, broken.left_out) == (
        3,
        1,
        1,
        1,
    )
    assert broken.schemas_valid == 1
    assert any("Missing" in problem for problem in broken.problems)

    hopeless = rows["hopeless"]
    assert not hopeless.loaded
    assert "SpecError" in (hopeless.error or "")
    assert "hopeless" in output and "SpecError" in output


def test_report_totals_and_summary_line(corpus: Path):
    """Totals count loaded specs only; percentages are computed."""
    summary, output = _run(corpus)

    assert (summary.specs, summary.loaded, len(summary.failures)) == (3, 2, 1)
    assert (summary.operations, summary.left_out, summary.tools) == (5, 1, 3)
    assert (summary.schemas, summary.schemas_valid, summary.rejections) == (3, 3, 0)
    assert not summary.ok
    line = summary.line()
    assert line.startswith(
        "2/3 specs loaded (66.7%), 3 tools from 5 operations (75.0% "
    )
    assert "3/3 schemas valid (100%), 0 export rejections" in line
    assert "1 left out by the filter" in line
    assert " ".join(line.split()) in " ".join(output.split())


def test_openai_strict_is_counted_where_the_export_offers_it(corpus: Path):
    """Both tools of the sound spec can be strict; no strict column otherwise."""
    summary, output = _run(corpus)
    good = next(row for row in summary.rows if row.name == "good")

    if "strict" in inspect.signature(to_openai).parameters:
        assert good.strict == 2
        assert "OpenAI strict" in output
    else:
        assert (good.strict, summary.strict) == (None, None)


def test_a_tool_an_export_leaves_out_counts_as_dropped(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
):
    """Entries are matched to tools by name, so a lost tool is noticed."""

    def loses_the_first(tools: list[Tool], **options: Any) -> list[dict[str, Any]]:
        return to_mcp(tools[1:], **options)

    monkeypatch.setattr(corpus_module, "to_mcp", loses_the_first)
    summary, _ = _run(corpus)
    good = next(row for row in summary.rows if row.name == "good")

    assert good.dropped["mcp"] == 1
    assert good.rejected == 0
    assert not summary.ok
    assert "dropped by exports (mcp 2)" in summary.line()


def test_percent_never_rounds_a_miss_up_to_100():
    assert [percent(1, 1), percent(0, 0), percent(1999, 2000), percent(1, 3)] == [
        "100%",
        "n/a",
        "99.9%",
        "33.3%",
    ]


def test_export_checker_flags_what_providers_reject():
    """Bad names, long OpenAI descriptions, and non-object schemas."""
    schema = {"type": "object", "properties": {}}
    good_openai = {
        "type": "function",
        "function": {"name": "ok_1", "description": "d", "parameters": schema},
    }
    long_openai = {
        "type": "function",
        "function": {"name": "ok", "description": "x" * 1025, "parameters": schema},
    }

    assert export_problems(good_openai, "openai") == []
    assert len(export_problems(long_openai, "openai")) == 1
    assert export_problems({"name": "a.b", "input_schema": schema}, "anthropic")
    assert export_problems({"name": "a", "inputSchema": {"type": "string"}}, "mcp")
    assert export_problems({"name": "a", "inputSchema": schema}, "mcp") == []
    assert export_problems({"name": "a\n", "inputSchema": schema}, "mcp")


def test_export_checker_flags_root_combinators_and_anthropic_argument_names():
    either = {"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}
    spaced = {"type": "object", "properties": {"a b": {"type": "string"}}}
    openai = {"type": "function", "function": {"name": "t", "parameters": either}}

    assert export_problems(openai, "openai") == ["parameters has anyOf at its root"]
    assert export_problems({"name": "t", "input_schema": spaced}, "anthropic")
    assert export_problems({"name": "t", "inputSchema": spaced}, "mcp") == []


def test_strict_openai_needs_closed_objects_with_every_property_required():
    loose = {"type": "object", "properties": {"a": {"type": "string"}}}
    closed = {**loose, "required": ["a"], "additionalProperties": False}

    def entry(parameters: dict[str, object]) -> dict[str, object]:
        function = {"name": "t", "description": "", "parameters": parameters}
        return {"type": "function", "function": {**function, "strict": True}}

    assert len(export_problems(entry(loose), "openai-strict")) == 2
    assert export_problems(entry(closed), "openai-strict") == []


@pytest.mark.corpus
@pytest.mark.skipif(not REAL.is_dir(), reason=f"no real-world specs at {REAL}")
def test_three_real_specs_report_clean(tmp_path: Path):
    """Three small real documents, copied into a MANIFEST-less folder."""
    for name, root in [
        ("oai-petstore", "petstore.yaml"),
        ("swagger-petstore-v3", "openapi.yaml"),
        ("gotify", "spec.json"),
    ]:
        (tmp_path / name).mkdir()
        shutil.copy(REAL / name / root, tmp_path / name / root)

    summary, output = _run(tmp_path)

    assert [row.name for row in summary.rows] == [
        "gotify",
        "oai-petstore",
        "swagger-petstore-v3",
    ]
    assert summary.failures == []
    assert summary.tools == summary.wanted > 0
    assert summary.schemas_valid == summary.schemas
    assert summary.rejections == 0
    assert summary.line().startswith("3/3 specs loaded (100%)")
