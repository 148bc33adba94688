"""Tests of `_loader` and `_refs` against hostile or broken documents: each must
end in a `SpecError`/`ConfigError` that says where, or in a skipped operation,
never in a bare Python exception, a hang or a memory blow-up."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from _specs import spec

from ourguide_caller import ApiKey, Integration
from ourguide_caller._errors import ConfigError, SpecError
from ourguide_caller._loader import MAX_MERGED_KEYS, load_spec, parse_text
from ourguide_caller._refs import RefResolver

# Operation `a` uses REF (as its body schema); operation `b` uses nothing.
TWO_OPERATIONS = """\
openapi: VERSION
info: {title: t, version: "1"}
paths:
  /a:
    post:
      operationId: a
      requestBody: {content: {application/json: {schema: {$ref: "REF"}}}}
      responses: {"200": {description: ok}}
  /b:
    get: {operationId: b, responses: {"200": {description: ok}}}
"""
A_SCHEMA = "/paths/~1a/post/requestBody/content/application~1json/schema"


def two_operations(ref: str, extra: str = "", version: str = "3.0.3") -> str:
    text = TWO_OPERATIONS.replace("VERSION", version).replace("REF", ref)
    return text + extra


def build(spec: Any, **options: Any) -> Integration:
    logging.disable(logging.WARNING)  # skipped operations are logged
    try:
        return Integration(spec, name="t", base_url="https://api.test", **options)
    finally:
        logging.disable(logging.NOTSET)


def only_b_with_a_skipped(integration: Integration) -> str:
    """Check that `a` was skipped and `b` kept; return why `a` was skipped."""
    assert [tool.name for tool in integration.tools] == ["b"]
    [skipped] = integration.report.skipped
    assert skipped.pointer == "/paths/~1a/post"
    return skipped.skipped


# ---------------------------------------------------------------- merge keys


def test_merge_key_fan_out_is_refused_quickly() -> None:
    # One 2,000-key mapping merged 200 times copies 400,000 keys.
    keys = ", ".join(f"k{i}: {i}" for i in range(2000))
    copies = "\n".join(f"  c{i}: {{<<: *b}}" for i in range(200))
    text = f"openapi: 3.0.3\nx-base: &b {{{keys}}}\nx-copies:\n{copies}\n"

    started = time.perf_counter()
    with pytest.raises(SpecError, match=r"merge keys \(`<<`\) copy more than"):
        parse_text(text, source="bomb.yaml")
    assert time.perf_counter() - started < 1


def test_merge_key_chain_is_refused_quickly() -> None:
    # Each mapping merges the one before: 1,000 links copy 500,000 keys.
    links = "\n".join(
        f"  c{i}: &c{i} {{<<: *c{i - 1}, x{i}: 1}}" for i in range(1, 1000)
    )
    text = f"openapi: 3.0.3\nx:\n  c0: &c0 {{x0: 1}}\n{links}\n"

    started = time.perf_counter()
    with pytest.raises(SpecError, match="merge keys") as caught:
        parse_text(text, source="chain.yaml")
    assert time.perf_counter() - started < 1
    assert caught.value.source == "chain.yaml" and "line " in str(caught.value)


def test_merge_keys_in_small_numbers_work_and_lists_count_each_alias() -> None:
    small = (
        "base: &base {type: object, description: shared}\n"
        "one: {<<: *base, description: own}\n"
        "two: {<<: [*base, {title: T}]}\n"
        "three: &three {<<: *base}\n"
        "four: {<<: *three, x: 1}\n"
    )
    keys = ", ".join(f"k{i}: {i}" for i in range(1000))
    aliases = ", ".join(["*b"] * (MAX_MERGED_KEYS // 1000 + 1))
    bomb = f"x-base: &b {{{keys}}}\nx-all: {{<<: [{aliases}]}}\n"

    data = parse_text(small, source="ok.yaml")
    with pytest.raises(SpecError, match="merge keys"):
        parse_text(bomb, source="list.yaml")

    assert data["one"] == {"type": "object", "description": "own"}
    assert data["two"] == {"type": "object", "description": "shared", "title": "T"}
    assert data["four"] == {"type": "object", "description": "shared", "x": 1}


# ---------------------------------------------------------------- $ref loops


def test_ref_running_through_itself_skips_only_that_operation() -> None:
    extra = "components: {schemas: {S: {$ref: '#/components/schemas/S/properties'}}}\n"
    spec = two_operations("#/components/schemas/S", extra)

    reason = only_b_with_a_skipped(build(spec))

    assert "$ref loop" in reason
    assert "#/components/schemas/S/$ref" in reason


def test_refs_running_through_each_other_are_a_loop() -> None:
    document = {"A": {"$ref": "#/B/x"}, "B": {"$ref": "#/A/y"}}
    resolver = RefResolver(document, source="d.json")

    with pytest.raises(SpecError, match=r"\$ref loop: following #/B/x through"):
        resolver.deref(document["A"], "/A")


def test_long_chain_of_refs_through_refs_is_refused_not_recursed() -> None:
    # N0 -> through N1 -> through N2 ... : no loop, but no end within reason.
    document = {f"N{i}": {"$ref": f"#/N{i + 1}/x"} for i in range(400)}
    document["N400"] = {"x": {"type": "string"}}
    resolver = RefResolver(document, source="d.json")

    with pytest.raises(SpecError, match=r"\$ref loop: .* over 64 \$refs"):
        resolver.deref(document["N0"], "/N0")


# ---------------------------------------------------------------- bad URLs


@pytest.mark.parametrize("remote", [False, True])
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
@pytest.mark.parametrize("ref", ["http://[::1/x.yaml#/S", "//[x/y#/S"])
def test_malformed_url_ref_skips_only_that_operation(
    ref: str, version: str, remote: bool, tmp_path: Path
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(two_operations(ref, version=version))

    reason = only_b_with_a_skipped(build(path, allow_remote_refs=remote))

    assert f"$ref {ref!r}" in reason and "is not a valid URL" in reason


def test_malformed_id_breaks_only_the_relative_refs_inside_it() -> None:
    extra = (
        "components: {schemas: {S: {$id: 'http://[::1/x', type: object,"
        " properties: {p: {$ref: y.json}}}}}\n"
    )
    spec = two_operations("#/components/schemas/S", extra, version="3.1.0")

    reason = only_b_with_a_skipped(build(spec))

    assert "relative to the $id 'http://[::1/x', which is not a valid URL" in reason


def test_remote_ref_with_a_host_label_over_63_characters_is_a_broken_ref() -> None:
    ref = f"https://{'a' * 70}.example/x.yaml#/S"

    spec = load_spec(two_operations(ref), allow_remote_refs=True)

    assert "is not a valid URL" in spec.broken_refs[ref]


def test_malformed_spec_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a valid URL"):
        load_spec("http://[::1/spec.yaml")


def test_malformed_spec_location_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="spec location .* not a valid URL") as e:
        load_spec(two_operations("#/x"), location="http://[::1")
    assert e.value.setting == "spec_location"


# ---------------------------------------------------------------- YAML tags


@pytest.mark.parametrize(
    "value",
    [
        "!!timestamp nope",
        "!!bool maybe",
        "!!float abc",
        "2024-13-01",
        "[1, !!timestamp x]",
    ],
)
def test_value_its_tag_cannot_read_is_a_spec_error(value: str) -> None:
    text = f"openapi: 3.0.3\npaths: {{}}\nx-value: {value}\n"

    with pytest.raises(SpecError, match="tagged value cannot be read") as caught:
        parse_text(text, source="tags.yaml")
    assert "at line 3" in str(caught.value)


# ---------------------------------------------------------------- pointer indexes


@pytest.mark.parametrize("token", ["\u00b2", "\u0661", "01", "9" * 5000])
def test_pointer_index_must_be_ascii_digits_in_range(token: str) -> None:
    document = {"x": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}
    resolver = RefResolver(document, source="d.json")

    with pytest.raises(SpecError, match="does not exist"):
        resolver.deref({"$ref": f"#/x/{token}"}, "/r")
    assert resolver.deref({"$ref": "#/x/1"}, "/r")[0] == {"type": "integer"}


# ---------------------------------------------------------------- unusable files


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.yaml", "S: {type: string\n"),
        ("broken.json", '{"S": }'),
        ("broken.yaml", "S: !!bool maybe\n"),
    ],
)
def test_unusable_referenced_file_skips_only_the_operations_using_it(
    tmp_path: Path, name: str, content: str
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / name).write_text(content)
    root = tmp_path / "spec.yaml"
    root.write_text(two_operations(f"sub/{name}#/S"))

    reason = only_b_with_a_skipped(build(root))

    assert f"file 'sub/{name}' referred from {root}#{A_SCHEMA}" in reason
    assert "cannot be used" in reason


# ---------------------------------------------------------------- empty things


def test_empty_ref_says_it_is_empty(tmp_path: Path) -> None:
    root = tmp_path / "spec.yaml"
    root.write_text(two_operations(""))

    reason = only_b_with_a_skipped(build(root))

    assert "is empty" in reason and "folder" not in reason


@pytest.mark.parametrize("paths", ["paths: {}\n", ""])
def test_spec_without_operations_warns(paths: str) -> None:
    text = f"openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\n{paths}"

    spec = load_spec(text)

    assert any("defines no operations" in w for w in spec.warnings)


# --- references OpenAPI does not allow, whose meaning is clear -----------------

OPERATION = {
    "operationId": "getA",
    "parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ],
    "responses": {"200": {"description": "ok"}},
}
MEDIA = {"schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}


def test_an_operation_written_as_a_ref_is_followed() -> None:
    document = spec(
        {"/a/{id}": {"get": {"$ref": "#/components/x-ops/getA"}}},
        components={"x-ops": {"getA": OPERATION}},
    )

    integration = Integration(document)

    [tool] = integration.tools
    assert ("getA", ["id"]) == (tool.name, tool.input_schema["required"])


def test_an_operation_ref_that_does_not_resolve_skips_only_it() -> None:
    document = spec(
        {
            "/a/{id}": {"get": {"$ref": "#/components/x-ops/nothing"}},
            "/b": {"get": {**OPERATION, "operationId": "b", "parameters": []}},
        },
    )

    integration = Integration(document)

    assert ["b"] == [t.name for t in integration.tools]
    [skipped] = integration.report.skipped
    assert "/paths/~1a~1{id}/get" == skipped.pointer


@pytest.mark.parametrize(
    "content",
    [
        {"$ref": "#/components/x-content"},
        {"application/json": {"$ref": "#/components/x-content/application~1json"}},
    ],
)
def test_body_content_written_as_a_ref_keeps_its_schema(content) -> None:
    body = {"required": True, "content": content}
    operation = {**OPERATION, "operationId": "b", "parameters": []}
    document = spec(
        {"/b": {"post": {**operation, "requestBody": body}}},
        components={"x-content": {"application/json": MEDIA}},
    )

    [tool] = Integration(document).tools

    assert {"n": {"type": "integer"}} == tool.input_schema["properties"]
    [report] = Integration(document).report.operations
    assert any("is a $ref, which OpenAPI does not allow" in n for n in report.notes)


def test_a_path_item_with_only_extensions_is_warned_about() -> None:
    document = spec(
        {"/a": {"x-internal": True}, "/b": {"get": {**OPERATION, "parameters": []}}}
    )

    warnings = Integration(document).report.warnings

    assert any("/paths/~1a: the path item has no operations" in w for w in warnings)


def test_properties_written_as_a_ref_are_followed() -> None:
    """`properties: {$ref: ...}` (DigitalOcean's) reads the mapping it names;
    a property that is itself called "$ref" stays a property."""
    body = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"$ref": "#/components/x-attributes"},
                }
            }
        },
    }
    named = {"type": "object", "properties": {"$ref": {"type": "string"}}}
    operation = {**OPERATION, "parameters": []}
    document = spec(
        {
            "/b": {"post": {**operation, "operationId": "b", "requestBody": body}},
            "/c": {
                "post": {
                    **operation,
                    "operationId": "c",
                    "requestBody": {"content": {"application/json": {"schema": named}}},
                }
            },
        },
        components={"x-attributes": {"name": {"type": "string"}}},
    )

    b, c = Integration(document).tools

    assert {"name": {"type": "string"}} == b.input_schema["properties"]
    assert ["$ref"] == [a.wire_name for a in c.arguments]


def test_an_unreadable_security_scheme_disables_only_its_operations() -> None:
    """A scheme that is a `$ref` loop is left out with a warning; operations
    that do not need it are tools as usual, the others cannot be called."""
    schemes = {
        "Loop": {"$ref": "#/components/securitySchemes/Again"},
        "Again": {"$ref": "#/components/securitySchemes/Loop"},
        "Key": {"type": "apiKey", "in": "header", "name": "X-Key"},
    }
    plain = {**OPERATION, "parameters": []}
    document = spec(
        {
            "/a": {"get": {**plain, "operationId": "a", "security": [{"Key": []}]}},
            "/b": {"get": {**plain, "operationId": "b", "security": [{"Loop": []}]}},
        },
        components={"securitySchemes": schemes},
    )

    integration = Integration(document, auth=ApiKey(key="k" * 24, header="X-Key"))

    a, b = integration.tools
    assert a.security.anonymous is not None and b.security.anonymous is None
    warnings = integration.report.warnings
    assert any("security scheme 'Loop' is left out" in w for w in warnings)


@pytest.mark.parametrize(
    "path",
    [
        "/public/../admin",
        "/./admin",
        "/a/..",
        "/public/%2e%2e/admin",
        "/public/.%2E/admin",
        "/public/..;/admin",
        "/public\\..\\admin",
        "/public%2F..%2Fadmin",
    ],
)
def test_a_path_with_a_dot_segment_is_skipped_with_the_reason(path) -> None:
    """Clients collapse `..`: the call would go elsewhere than the path says."""
    plain = {**OPERATION, "parameters": []}
    document = spec(
        {path: {"delete": {**plain, "operationId": "d"}}, "/b": {"get": plain}}
    )

    integration = Integration(document)

    assert ["getA"] == [t.name for t in integration.tools]
    [skipped] = integration.report.skipped
    assert "'.' or '..' segment" in skipped.skipped


def test_dots_in_a_literal_query_of_a_path_key_are_fine() -> None:
    plain = {**OPERATION, "parameters": []}
    document = spec({"/files?path=a/../b": {"get": plain}})

    [tool] = Integration(document).tools

    assert "/files?path=a/../b" == tool.path


def test_fields_beside_a_path_item_ref_are_kept() -> None:
    """OpenAPI allows fields beside a path item's `$ref`: an operation or a
    parameter written there is not lost."""
    shared = {"get": {**OPERATION, "parameters": []}}
    integer_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    document = spec(
        {
            "/a/{id}": {
                "$ref": "#/components/x-items/shared",
                "parameters": [integer_id],
                "post": {**OPERATION, "operationId": "p", "parameters": []},
            }
        },
        components={"x-items": {"shared": shared}},
    )

    integration = Integration(document)

    get_a, post = integration.tools
    assert ("getA", "p") == (get_a.name, post.name)
    assert {"type": "integer"} == get_a.input_schema["properties"]["id"]
    assert any("beside the path item's $ref" in w for w in integration.report.warnings)


def test_fields_beside_an_operation_ref_are_kept() -> None:
    query = {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
    document = spec(
        {
            "/a/{id}": {
                "get": {"$ref": "#/components/x-ops/getA", "parameters": [query]}
            }
        },
        components={"x-ops": {"getA": OPERATION}},
    )

    [tool] = Integration(document).tools

    assert ["id", "q"] == sorted(tool.input_schema["required"])


def test_parameters_declared_twice_are_noted() -> None:
    twice = [
        {"name": "X-Id", "in": "header", "schema": {"type": "string"}},
        {"name": "x-id", "in": "header", "schema": {"type": "integer"}},
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string"},
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    ]
    document = spec(
        {"/a": {"get": {**OPERATION, "operationId": "a", "parameters": twice}}}
    )

    [report] = Integration(document).report.operations

    assert any("'x-id' is declared twice" in n for n in report.notes)
    assert any("both `schema` and `content`" in n for n in report.notes)
