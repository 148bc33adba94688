"""Tests of `_loader`: sources, parsing, safety limits, bundling, anchors, corpus."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import logging
import re
import time
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
import respx
import yaml

from ourguide_caller import Integration
from ourguide_caller._errors import ConfigError, SpecError
from ourguide_caller._loader import BUNDLE_KEY, LoadedSpec, load_spec, parse_text
from ourguide_caller._refs import RefResolver, join_pointer

FIXTURES = Path(__file__).resolve().parent / "specs" / "loader"
REAL = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"

MINIMAL: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Minimal", "version": "1"},
    "paths": {},
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def resolve_all(spec: LoadedSpec) -> int:
    """Follow every `$ref` string not recorded as broken; return how many."""
    resolver = RefResolver(
        spec.document,
        source=spec.source,
        broken_refs=spec.broken_refs,
        anchors=spec.anchors,
    )
    count = 0
    stack: list[tuple[Any, str]] = [(spec.document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in spec.broken_refs:
                resolver.deref(node, pointer)
                count += 1
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            continue
        stack.extend((v, join_pointer(pointer, k)) for k, v in items)
    return count


# ------------------------------------------------------------------ sources


def test_json_file(tmp_path: Path) -> None:
    # One operation: a document with none loads with a warning saying so.
    document = {**MINIMAL, "paths": {"/a": {"get": {"responses": {}}}}}
    path = write(tmp_path, "spec.json", json.dumps(document))

    spec = load_spec(path)

    assert spec.document == document
    assert spec.source == str(path)
    assert spec.location is None
    assert spec.original_version == "3.0.3"
    assert spec.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert spec.files == (str(path),)
    assert spec.broken_refs == {} and spec.warnings == ()


def test_yaml_file_normalises_keys_and_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "spec.yaml",
        """\
openapi: 3.1.0
info: {title: Dates, version: "1"}
paths:
  /a:
    get:
      responses:
        200: {description: ok}
        404: {description: missing}
components:
  schemas:
    Day:
      type: string
      example: 2024-05-01
      default: 2001-12-14t21:59:43.10-05:00
x-flags:
  yes: on
""",
    )

    spec = load_spec(str(path))

    responses = spec.document["paths"]["/a"]["get"]["responses"]
    assert list(responses) == ["200", "404"]
    day = spec.document["components"]["schemas"]["Day"]
    assert day["example"] == "2024-05-01"
    assert day["default"].startswith("2001-12-14T21:59:43")
    # YAML 1.2 rules: `yes` and `on` are words, not booleans.
    assert spec.document["x-flags"] == {"yes": "on"}
    # JSON-compatible through and through.
    json.dumps(spec.document)
    assert [] == list(spec.warnings)


def test_mapping_source_is_not_modified() -> None:
    source = {
        **MINIMAL,
        "paths": {"/a": {"get": {"responses": {200: {"description": "ok"}}}}},
        "components": {"schemas": {"X": {"$ref": "other.yaml#/X"}}},
    }
    before = repr(source)

    spec = load_spec(source)

    assert repr(source) == before
    assert spec.source == "<dict>" and spec.files == ()
    assert "200" in spec.document["paths"]["/a"]["get"]["responses"]
    assert "no folder" in spec.broken_refs["other.yaml#/X"]


def test_read_only_mapping_source_is_copied_into_plain_data() -> None:
    schemas = MappingProxyType({"Day": {"type": "string", "example": date(2024, 1, 2)}})
    source = MappingProxyType({**MINIMAL, "components": {"schemas": schemas}})

    spec = load_spec(source)

    assert type(spec.document) is dict
    assert spec.document["components"]["schemas"]["Day"]["example"] == "2024-01-02"
    assert isinstance(schemas["Day"]["example"], date)


def test_mapping_hash_is_canonical() -> None:
    one = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    two = {"paths": {}, "info": {"version": "1", "title": "t"}, "openapi": "3.0.0"}

    assert load_spec(one).content_hash == load_spec(two).content_hash
    assert load_spec(one).document is one  # nothing to rewrite: no copy


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(MINIMAL),
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
    ],
    ids=["json", "yaml"],
)
def test_text_source(text: str) -> None:
    spec = load_spec(text)

    assert spec.source == "<text>"
    assert spec.document["openapi"] == "3.0.3"
    assert spec.content_hash == hashlib.sha256(text.encode()).hexdigest()


def test_missing_path_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    with pytest.raises(ConfigError, match="does not exist") as info:
        load_spec(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(ConfigError, match="'nope.yaml' does not exist"):
        load_spec("nope.yaml")


def test_location_is_kept_for_files(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.json", json.dumps(MINIMAL))

    spec = load_spec(path, location="https://example.com/spec.json")

    assert spec.location == "https://example.com/spec.json"


def test_load_is_logged_without_contents(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "spec.json", json.dumps(MINIMAL))

    with caplog.at_level(logging.INFO, logger="ourguide_caller._loader"):
        load_spec(path)

    [record] = caplog.records
    message = record.getMessage()
    assert str(path) in message and "3.0.3" in message and "ms" in message
    assert "Minimal" not in message


# ------------------------------------------------------------------ bad input


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(SpecError, match=r"line 3, column 8") as info:
        load_spec('{\n  "openapi": "3.0.0",\n  "x": }\n')
    assert info.value.source == "<text>"


def test_yaml_integers_are_decimal_as_in_yaml_1_2() -> None:
    data = parse_text("a: 010\nb: -07\nc: 0x10\nd: !!int 0x10\n", source="x")

    assert data == {"a": 10, "b": -7, "c": "0x10", "d": 16}


@pytest.mark.parametrize("value", ["!!int zz", "!!float zz", "!!timestamp 2020-99-99"])
def test_yaml_value_that_does_not_fit_its_tag_is_a_spec_error(value: str) -> None:
    with pytest.raises(SpecError, match="tag"):
        parse_text(f"a: {value}\n", source="x")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ('{"openapi": "3.0.0", "x": ' + "9" * 5000 + "}", "number that cannot be read"),
        ({"openapi": 10**400, "paths": {}}, "not a supported version"),
        ("openapi: 3.0.3\ninfo: {title: \ud800}\npaths: {}\n", "lone UTF-16"),
    ],
    ids=["json-int-over-4300-digits", "huge-int-version", "surrogate-in-text"],
)
def test_unreadable_values_are_spec_errors(source: Any, problem: str) -> None:
    with pytest.raises(SpecError, match=problem) as info:
        load_spec(source)

    assert len(str(info.value)) < 400


def test_lone_surrogates_are_replaced_with_a_warning() -> None:
    """JSON's `\\ud800` escape gives a string no UTF-8 encoder takes; the
    tools must stay encodable, so it becomes U+FFFD (the caller's dict as it
    was)."""
    as_dict = {**MINIMAL, "info": {"title": "t\ud800", "version": "1"}}
    as_text = json.dumps({**MINIMAL, "x-emoji": "\U0001f600", "x-bad": "\udc00"})

    from_dict = load_spec(as_dict)
    from_text = load_spec(as_text)

    assert from_dict.document["info"]["title"] == "t\ufffd"
    assert as_dict["info"]["title"] == "t\ud800"
    assert from_text.document["x-bad"] == "\ufffd"
    assert from_text.document["x-emoji"] == "\U0001f600"
    assert any("<dict>#/info/title" in w for w in from_dict.warnings)
    assert any("surrogate" in w for w in from_text.warnings)


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "openapi: 3.0.0\npaths: [1, 2\ninfo: {}\n")

    with pytest.raises(SpecError, match=r"invalid YAML at line \d+, column \d+"):
        load_spec(path)


@pytest.mark.parametrize(
    ("text", "pointer", "words"),
    [
        ('{"openapi": "4.0.0"}', "/openapi", "not a supported version"),
        ('{"openapi": "3.2.0"}', "/openapi", "not a supported version"),
        ('{"swagger": "1.2"}', "/swagger", "not a supported version"),
        ('{"info": {}, "paths": {}}', "", "neither an `openapi` nor a `swagger`"),
        ("[1, 2]", "", "not a mapping"),
        ("", "", "is empty, not a mapping"),
    ],
)
def test_unsupported_documents(
    tmp_path: Path, text: str, pointer: str, words: str
) -> None:
    path = write(tmp_path, "spec.yaml", text)

    with pytest.raises(SpecError) as info:
        load_spec(path)

    assert info.value.pointer == pointer
    assert words in str(info.value)
    if pointer or "neither" in words:
        assert "3.1.x" in str(info.value)


def test_swagger_version_written_as_a_number_is_read_leniently() -> None:
    spec = load_spec("swagger: 2.0\ninfo: {title: t, version: '1'}\npaths: {}\n")

    assert spec.original_version == "2.0"
    assert spec.document["openapi"] == "3.0.3"
    assert any("#/swagger" in w for w in spec.warnings)


def test_billion_laughs_fails_fast() -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    text = "openapi: 3.0.0\n" + "\n".join(lines) + "\n"

    started = time.perf_counter()
    with pytest.raises(SpecError, match="expands to more than"):
        load_spec(text)
    assert time.perf_counter() - started < 2


def test_ordinary_anchor_reuse_loads() -> None:
    text = """\
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses: &std
        "200": {description: ok}
        "500": {description: boom}
  /b:
    get:
      responses: *std
"""
    spec = load_spec(text)

    paths = spec.document["paths"]
    assert paths["/a"]["get"]["responses"] == paths["/b"]["get"]["responses"]


def test_alias_cycle_is_refused() -> None:
    with pytest.raises(SpecError, match="refers to a node that contains it"):
        parse_text("openapi: 3.0.0\nx: &x\n  y: *x\n", source="cycle.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a": ' * 10_000 + "1" + "}" * 10_000,
        "a: " + "[" * 10_000 + "]" * 10_000,
        "a:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1_500)),
    ],
    ids=["json-array", "json-object", "yaml-flow", "yaml-block"],
)
def test_very_deep_nesting_is_a_spec_error(text: str) -> None:
    with pytest.raises(SpecError, match="nests deeper than 300 levels") as info:
        parse_text(text, source="deep")

    assert info.value.source == "deep"
    assert info.value.pointer.startswith(("/0/0", "/a"))


def test_deep_json_is_refused_where_it_is_read() -> None:
    """A JSON spec with only local refs is not walked at load (the walk is
    most of a large spec's load time); a too-deep schema is refused where the
    tool builder reads it, with its pointer, and only that operation skipped."""
    from ourguide_caller import Integration

    inner: Any = {"type": "string"}
    for _ in range(400):
        inner = {"type": "object", "properties": {"k": inner}}
    ok = {"200": {"description": "ok"}}
    doc = {
        **MINIMAL,
        "servers": [{"url": "https://api.example.test"}],
        "paths": {
            "/deep": {
                "post": {
                    "operationId": "deep",
                    "responses": ok,
                    "requestBody": {"content": {"application/json": {"schema": inner}}},
                }
            },
            "/fine": {"get": {"operationId": "fine", "responses": ok}},
        },
    }

    integration = Integration(json.dumps(doc))

    assert ["fine"] == [t.name for t in integration.tools]
    [skipped] = integration.report.skipped
    assert "/paths/~1deep/post/requestBody" in skipped.skipped


@pytest.mark.parametrize("kind", ["yaml"])
def test_moderately_deep_nesting_names_the_pointer(kind: str) -> None:
    # Deep enough for our limit, shallow enough for the parsers.
    inner: Any = 1
    for _ in range(400):
        inner = {"k": inner}
    doc = {**MINIMAL, "x-deep": inner}
    text = json.dumps(doc)
    if kind == "yaml":
        text = "openapi: 3.0.3\nx-deep:\n"
        text += "".join(" " * (i + 1) + "k:\n" for i in range(400)) + " " * 401 + "1\n"

    with pytest.raises(SpecError) as info:
        load_spec(text)

    assert info.value.pointer == "/x-deep" + "/k" * 300


def test_yaml_without_libyaml_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml, "__with_libyaml__", False)

    with pytest.raises(ConfigError, match="libyaml"):
        parse_text("a: 1\n", source="x.yaml")
    assert parse_text('{"a": 1}', source="x.json") == {"a": 1}  # JSON still works


def test_parse_text_returns_plain_data() -> None:
    assert parse_text(b"200: ok\nwhen: 2024-01-02\n", source="t") == {
        "200": "ok",
        "when": "2024-01-02",
    }


# ------------------------------------------------------------------ multi-file


@pytest.fixture(scope="module")
def multi() -> LoadedSpec:
    return load_spec(FIXTURES / "multi" / "openapi.yaml")


def test_bundles_each_reached_file_once(multi: LoadedSpec) -> None:
    bundled = multi.document[BUNDLE_KEY]

    assert list(bundled) == [
        "paths/items.json",
        "paths/things.yaml",
        "components/common.yaml",
        "components/nested/deeper/tag.yaml",
    ]
    assert len(multi.files) == 5
    assert not any("unused" in f for f in multi.files)  # never reached, never read
    assert multi.broken_refs == {}


def test_refs_are_rewritten_to_local_pointers(multi: LoadedSpec) -> None:
    doc = multi.document
    bundled = doc[BUNDLE_KEY]
    get_item = bundled["paths/items.json"]["items_{item_id}"]["get"]
    common = bundled["components/common.yaml"]

    # Braces in the fragment survive as a JSON pointer.
    assert doc["paths"]["/items/{item_id}"]["$ref"] == (
        "#/x-ourguide-bundled/paths~1items.json/items_{item_id}"
    )
    assert get_item["parameters"][0]["$ref"] == (
        "#/x-ourguide-bundled/components~1common.yaml/parameters/ItemId"
    )
    # Back into the root file.
    error = get_item["responses"]["default"]["content"]["application/json"]
    assert error["schema"]["$ref"] == "#/components/schemas/Error"
    # A local ref inside a bundled file means that file's own root.
    children = common["schemas"]["Item"]["properties"]["children"]
    assert children["items"]["$ref"] == (
        "#/x-ourguide-bundled/components~1common.yaml/schemas/Item"
    )
    # Nested relative folders.
    assert common["schemas"]["Item"]["properties"]["tag"]["$ref"] == (
        "#/x-ourguide-bundled/components~1nested~1deeper~1tag.yaml"
    )


def test_every_bundled_ref_resolves(multi: LoadedSpec) -> None:
    resolver = RefResolver(multi.document, source=multi.source)
    things = multi.document["paths"]["/things"]

    node, _ = resolver.deref(things, "/paths/~1things")
    schema = node["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    item, pointer = resolver.deref(schema["items"], "/x")  # percent-encoded fragment

    assert pointer.endswith("/schemas/Item") and item["type"] == "object"
    assert resolve_all(multi) >= 7


def test_hash_covers_every_file_in_read_order(multi: LoadedSpec) -> None:
    digest = hashlib.sha256()
    for name in multi.files:
        digest.update(Path(name).read_bytes())

    assert multi.content_hash == digest.hexdigest()


def test_missing_file_is_recorded_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path, "spec/schemas.yaml", "Pet: {type: object}\n")
    root = write(
        tmp_path,
        "spec/openapi.yaml",
        """\
openapi: 3.0.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet: {$ref: "schemas.yaml#/Pet"}
    Policy: {$ref: "./policies.yaml"}
""",
    )

    spec = load_spec(root)

    reason = spec.broken_refs["./policies.yaml"]
    assert "'./policies.yaml'" in reason and "does not exist" in reason
    assert "openapi.yaml#/components/schemas/Policy" in reason
    assert list(spec.document[BUNDLE_KEY]) == ["schemas.yaml"]
    with pytest.raises(SpecError, match="policies.yaml"):
        RefResolver(
            spec.document, source=spec.source, broken_refs=spec.broken_refs
        ).deref(spec.document["components"]["schemas"]["Policy"], "/c")


def test_refs_leaving_the_folder_are_not_followed(tmp_path: Path) -> None:
    write(tmp_path, "secret.yaml", "password: hunter2\n")
    write(tmp_path, "elsewhere/data.yaml", "x: 1\n")
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "link.yaml").symlink_to(tmp_path / "elsewhere" / "data.yaml")
    root = write(
        tmp_path,
        "spec/openapi.yaml",
        """\
openapi: 3.0.0
info: {title: t, version: "1"}
paths: {}
x-up: {$ref: "../secret.yaml"}
x-link: {$ref: "link.yaml"}
x-sub: {$ref: "sub/../../secret.yaml#/password"}
""",
    )

    spec = load_spec(root)

    assert set(spec.broken_refs) == {
        "../secret.yaml",
        "link.yaml",
        "sub/../../secret.yaml#/password",
    }
    assert all("leaves the spec's folder" in r for r in spec.broken_refs.values())
    assert spec.files == (str(root),)
    assert BUNDLE_KEY not in spec.document


def test_remote_refs_are_not_fetched_by_default(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "openapi.yaml",
        """\
openapi: 3.0.0
info: {title: t, version: "1"}
paths: {}
x-remote: {$ref: "https://schemas.example.com/pet.yaml#/Pet"}
x-file: {$ref: "file:///etc/passwd"}
""",
    )

    with respx.mock(assert_all_called=False) as router:
        route = router.get(url__startswith="https://schemas.example.com/")
        spec = load_spec(root)

    assert not route.called
    reason = spec.broken_refs["https://schemas.example.com/pet.yaml#/Pet"]
    assert "allow_remote_refs=True" in reason
    assert "never followed" in spec.broken_refs["file:///etc/passwd"]


def test_remote_refs_are_bundled_when_allowed(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "openapi.yaml",
        """\
openapi: 3.0.0
info: {title: t, version: "1"}
paths: {}
x-remote: {$ref: "https://schemas.example.com/pet.yaml#/Pet"}
""",
    )
    url = "https://schemas.example.com/pet.yaml"

    with respx.mock() as router:
        router.get(url).mock(
            return_value=httpx.Response(200, text="Pet:\n  $ref: '#/Base'\nBase: {}\n")
        )
        spec = load_spec(root, allow_remote_refs=True)

    assert spec.document[BUNDLE_KEY][url]["Pet"]["$ref"] == (
        "#/x-ourguide-bundled/https:~1~1schemas.example.com~1pet.yaml/Base"
    )
    assert spec.document["x-remote"]["$ref"].endswith("pet.yaml/Pet")
    assert spec.files[-1] == url
    assert resolve_all(spec) == 2


def test_mapping_source_may_fetch_absolute_remote_refs() -> None:
    url = "https://schemas.example.com/common.json"
    source = {**MINIMAL, "x-common": {"$ref": url + "#/Name"}}

    with respx.mock() as router:
        router.get(url).mock(return_value=httpx.Response(200, json={"Name": {}}))
        spec = load_spec(source, allow_remote_refs=True)

    assert spec.broken_refs == {}
    assert spec.document[BUNDLE_KEY][url] == {"Name": {}}
    assert source["x-common"]["$ref"] == url + "#/Name"  # the caller's dict as it was
    assert BUNDLE_KEY not in source


def test_url_source(tmp_path: Path) -> None:
    url = "https://api.example.com/openapi.yaml"
    text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
    text += "x-part: {$ref: 'parts/a.yaml'}\n"

    with respx.mock(assert_all_called=False) as router:
        router.get(url).mock(return_value=httpx.Response(200, text=text))
        part = router.get("https://api.example.com/parts/a.yaml")
        spec = load_spec(url)

    assert not part.called  # relative refs of a remote spec are remote too
    assert spec.location == url and spec.source == url
    assert spec.files == (url,)
    assert spec.original_version == "3.1.0"
    assert "allow_remote_refs" in spec.broken_refs["parts/a.yaml"]


def test_url_source_over_max_bytes_is_refused() -> None:
    url = "https://api.example.com/huge.json"
    with respx.mock() as router:
        router.get(url).mock(return_value=httpx.Response(200, content=b"{" * 5000))
        with pytest.raises(SpecError, match="max_bytes"):
            load_spec(url, max_bytes=1000)


def test_url_source_gzip_is_inflated_within_max_bytes() -> None:
    url = "https://api.example.com/openapi.json"
    packed = gzip.compress(json.dumps(MINIMAL).encode())
    bomb = gzip.compress(b'{"openapi": "3.0.0", "x": "' + b" " * 3_000_000 + b'"}')

    with respx.mock() as router:
        route = router.get(url)
        route.mock(
            return_value=httpx.Response(
                200, content=packed, headers={"Content-Encoding": "gzip"}
            )
        )
        assert load_spec(url).document == MINIMAL
        assert route.calls.last.request.headers["Accept-Encoding"] == "identity"

        route.mock(
            return_value=httpx.Response(
                200, content=bomb, headers={"Content-Encoding": "gzip"}
            )
        )
        with pytest.raises(SpecError, match="max_bytes"):
            load_spec(url, max_bytes=1_000_000)


def test_url_source_http_error_is_a_config_error() -> None:
    url = "https://api.example.com/missing.json"
    with respx.mock() as router:
        router.get(url).mock(return_value=httpx.Response(404))
        with pytest.raises(ConfigError, match="HTTP 404"):
            load_spec(url)


def test_url_source_follows_a_few_redirects_and_never_to_plain_http() -> None:
    base = "https://api.example.com"
    with respx.mock() as router:
        router.get(f"{base}/old.json").mock(
            return_value=httpx.Response(301, headers={"Location": "/new.json"})
        )
        router.get(f"{base}/new.json").mock(
            return_value=httpx.Response(200, json=MINIMAL)
        )
        assert load_spec(f"{base}/old.json").document == MINIMAL

        router.get(f"{base}/loop").mock(
            return_value=httpx.Response(302, headers={"Location": "/loop"})
        )
        with pytest.raises(ConfigError, match="redirected more than 5 times"):
            load_spec(f"{base}/loop")

        router.get(f"{base}/down").mock(
            return_value=httpx.Response(
                307, headers={"Location": "http://api.example.com/x.json"}
            )
        )
        with pytest.raises(ConfigError, match="downgrade"):
            load_spec(f"{base}/down")

        router.get(f"{base}/file").mock(
            return_value=httpx.Response(302, headers={"Location": "file:///etc/x"})
        )
        with pytest.raises(ConfigError, match="not an http"):
            load_spec(f"{base}/file")


def test_remote_refs_that_chain_without_end_stop_at_a_document_limit() -> None:
    """Each remote document naming a new one: the load stops fetching."""

    def chain(request: httpx.Request) -> httpx.Response:
        number = int(request.url.path.rsplit("/", 1)[1])
        next_ref = f"/chain/{number + 1}#/S"
        return httpx.Response(
            200, json={"S": {"type": "object", "properties": {"n": {"$ref": next_ref}}}}
        )

    source = {**MINIMAL, "x-s": {"$ref": "https://s.example.test/chain/0#/S"}}
    with respx.mock() as router:
        route = router.get(url__startswith="https://s.example.test/chain/")
        route.side_effect = chain
        spec = load_spec(source, allow_remote_refs=True)

    assert route.call_count == 64
    [reason] = spec.broken_refs.values()
    assert "already fetched 64 remote documents" in reason


# ------------------------------------------------------------------ 3.1 anchors


def test_id_and_anchor_references_resolve() -> None:
    text = """\
openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      type: object
      properties:
        details: {$ref: "https://example.com/schemas/details"}
        detailId: {$ref: "https://example.com/schemas/details#detail_id"}
        name: {$ref: "https://example.com/schemas/details#/properties/name"}
        plain: {$ref: "#plain"}
    Details:
      $id: https://example.com/schemas/details
      type: object
      properties:
        id: {type: integer, $anchor: detail_id}
        name: {type: string}
    Plain: {$anchor: plain, type: string}
"""
    spec = load_spec(text)

    details = "/components/schemas/Details"
    assert spec.anchors["https://example.com/schemas/details"] == details
    assert spec.anchors["https://example.com/schemas/details#detail_id"] == (
        details + "/properties/id"
    )
    assert spec.anchors["#plain"] == "/components/schemas/Plain"
    assert spec.broken_refs == {}
    assert resolve_all(spec) == 4


ID_SCOPED = """\
openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      $id: https://example.com/schemas/pet
      type: object
      properties:
        owner: {$ref: owner}
        tag: {$ref: "tag#/properties/name"}
        local: {$ref: "#/components/schemas/Tag"}
    Owner: {$id: https://example.com/schemas/owner, type: string}
    Tag:
      $id: https://example.com/schemas/tag
      type: object
      properties: {name: {type: string, maxLength: 5}}
"""


def test_relative_refs_resolve_against_the_enclosing_id() -> None:
    spec = load_spec(ID_SCOPED)

    properties = spec.document["components"]["schemas"]["Pet"]["properties"]
    assert properties["owner"]["$ref"] == "https://example.com/schemas/owner"
    assert properties["tag"]["$ref"] == (
        "https://example.com/schemas/tag#/properties/name"
    )
    assert properties["local"]["$ref"] == "#/components/schemas/Tag"
    assert spec.broken_refs == {}
    resolver = RefResolver(spec.document, source="t", anchors=spec.anchors)
    assert resolver.deref(properties["tag"], "/x")[0] == {
        "type": "string",
        "maxLength": 5,
    }


def test_id_scoped_refs_leave_a_callers_mapping_untouched() -> None:
    document = yaml.safe_load(ID_SCOPED)
    before = json.dumps(document, sort_keys=True)

    spec = load_spec(document)

    assert json.dumps(document, sort_keys=True) == before
    pet = spec.document["components"]["schemas"]["Pet"]
    assert pet["properties"]["owner"]["$ref"] == "https://example.com/schemas/owner"


def test_an_id_declared_in_another_file_is_found(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "root.yaml",
        """\
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "https://example.com/schemas/pet"}
      responses: {"200": {description: ok}}
    get:
      parameters:
        - {name: q, in: query, schema: {$ref: "./schemas.yaml#/Owner"}}
        - {name: r, in: query, schema: {$ref: "https://example.com/nothere"}}
      responses: {"200": {description: ok}}
""",
    )
    write(
        tmp_path,
        "schemas.yaml",
        """\
Owner: {$id: https://example.com/schemas/owner, type: string}
Pet:
  $id: https://example.com/schemas/pet
  type: object
  properties: {owner: {$ref: owner}}
""",
    )

    spec = load_spec(root)

    mounted = f"/{BUNDLE_KEY}/schemas.yaml"
    assert spec.anchors["https://example.com/schemas/pet"] == mounted + "/Pet"
    assert list(spec.broken_refs) == ["https://example.com/nothere"]
    reason = spec.broken_refs["https://example.com/nothere"]
    assert "no `$id` in the document names" in reason
    assert "root.yaml#/paths/~1pets/get/parameters/1/schema" in reason
    pet = spec.document[BUNDLE_KEY]["schemas.yaml"]["Pet"]
    resolver = RefResolver(spec.document, source="t", anchors=spec.anchors)
    assert resolver.deref(pet["properties"]["owner"], "/x")[0]["type"] == "string"


def test_fragment_refs_inside_an_id_schema_mean_that_schema() -> None:
    """`#` and `#/$defs/d` under a `$id` name the schema's own parts, while
    `#/components/...` (not in it) keeps its document-wide reading."""
    document = {
        **MINIMAL,
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "X": {
                    "$id": "https://ex.test/s/x",
                    "type": "object",
                    "properties": {
                        "self": {"$ref": "#"},
                        "q": {"$ref": "#/$defs/d"},
                        "doc": {"$ref": "#/components/schemas/Y"},
                    },
                    "$defs": {"d": {"type": "integer"}},
                },
                "Y": {"type": "string"},
            }
        },
    }

    spec = load_spec(document)

    x = spec.document["components"]["schemas"]["X"]["properties"]
    assert x["self"]["$ref"] == "#/components/schemas/X"
    assert x["q"]["$ref"] == "#/components/schemas/X/$defs/d"
    assert x["doc"]["$ref"] == "#/components/schemas/Y"
    assert document["components"]["schemas"]["X"]["properties"]["self"] == {"$ref": "#"}


def test_unquoted_yaml_ref_is_dropped_with_a_warning() -> None:
    text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
    text += "x-a:\n  $ref: #/components/schemas/A\n"

    spec = load_spec(text)

    assert spec.document["x-a"] == {}
    assert any("<text>#/x-a" in w and "quote" in w for w in spec.warnings)


# ------------------------------------------------------------------ real corpus


def corpus_roots() -> dict[str, str]:
    """Spec name -> root file, read from the corpus MANIFEST."""
    manifest = REAL / "MANIFEST.md"
    if not manifest.is_file():
        return {}
    pattern = re.compile(r"\| \d+ \| ([\w.-]+) \| `([^`]+?)(?: \(\+\d+ files\))?` \|")
    found = (pattern.match(line) for line in manifest.read_text().splitlines())
    return {m.group(1): m.group(2) for m in found if m}


@functools.cache
def load_real(name: str) -> LoadedSpec:
    return load_spec(REAL / name / corpus_roots()[name])


needs_corpus = pytest.mark.skipif(not REAL.is_dir(), reason="no real spec corpus")


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("name", sorted(corpus_roots()) or ["(none)"])
def test_real_spec_loads(name: str) -> None:
    spec = load_real(name)

    assert re.fullmatch(r"2\.0|3\.[01]\.\d+", spec.original_version)
    assert spec.document["openapi"].startswith("3.")
    assert spec.document.get("paths") or spec.document.get("webhooks")


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("name", ["digitalocean", "sendgrid"])
def test_real_multi_file_specs_bundle_completely(name: str) -> None:
    spec = load_real(name)

    assert spec.broken_refs == {}
    assert len(spec.files) > 50
    assert resolve_all(spec) > 1000


@pytest.mark.corpus
@needs_corpus
def test_spotify_has_exactly_the_policies_ref_broken() -> None:
    spec = load_real("spotify")

    assert list(spec.broken_refs) == ["../policies.yaml"]
    assert "does not exist" in spec.broken_refs["../policies.yaml"]


@pytest.mark.corpus
@needs_corpus
def test_petstore_v31_anchors() -> None:
    spec = load_real("swagger-petstore-v31")

    ref = "/components/schemas/petdetails#pet_details_id"
    assert spec.anchors[ref] == "/components/schemas/PetDetails/properties/id"
    assert resolve_all(spec) > 20


@pytest.mark.corpus
@needs_corpus
def test_real_swagger2_multi_file() -> None:
    spec = load_real("oai-petstore-separate-v2")

    # `../common/Error.yaml` lies outside the root file's folder (spec/).
    assert list(spec.broken_refs) == ["../common/Error.yaml"]
    assert "leaves the spec's folder" in spec.broken_refs["../common/Error.yaml"]
    pets = spec.document["paths"]["/pets"]["get"]
    assert pets["parameters"][0]["$ref"].startswith("#/x-ourguide-bundled/")


def test_errors_inside_a_bundled_file_name_that_file(tmp_path: Path) -> None:
    from ourguide_caller import Integration

    root = write(
        tmp_path,
        "root.yaml",
        """\
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://api.example.test"}]
paths:
  /a:
    get:
      parameters: [{$ref: "common.yaml#/Query"}]
      responses: {"200": {description: ok}}
  /b:
    get:
      responses: {"200": {description: ok}}
""",
    )
    write(
        tmp_path,
        "common.yaml",
        "Query: {name: q, in: query, schema: {$ref: '#/Missing'}}\n",
    )

    integration = Integration(root)

    [operation] = [o for o in integration.report.operations if o.path == "/a"]
    assert operation.skipped is not None
    assert operation.skipped.startswith("common.yaml#/Query/schema/$ref:")
    assert "target common.yaml#/Missing does not exist" in operation.skipped


def test_a_documents_own_bundle_entry_is_never_overwritten(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "root.yaml",
        f"""\
openapi: 3.0.3
info: {{title: t, version: "1"}}
paths: {{}}
x-p: {{$ref: "p.yaml#/P"}}
{BUNDLE_KEY}: {{p.yaml: {{P: {{type: string}}}}}}
""",
    )
    write(tmp_path, "p.yaml", "P: {type: integer}\n")

    with pytest.raises(SpecError, match="already holds an entry for 'p.yaml'"):
        load_spec(root)


def test_a_ref_to_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    root = write(
        tmp_path,
        "root.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "x-a: {$ref: '.'}\nx-b: {$ref: 'schemas'}\n",
    )

    spec = load_spec(root)

    assert "names a folder" in spec.broken_refs["."]
    assert "names a folder" in spec.broken_refs["schemas"]


def test_a_password_in_the_spec_url_is_never_shown() -> None:
    """A spec fetched with a user name and password in its URL: its source,
    files, errors and build report show `***` in their place."""
    url = "https://bob:pa55%2Fw0rd@specs.test/openapi.yaml"
    text = (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "servers: [{url: /api}]\n"
        "paths:\n  /a:\n    get:\n      operationId: a\n"
        "      parameters: [{$ref: '#/components/parameters/Missing'}]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /b: {get: {operationId: b, responses: {'200': {description: ok}}}}\n"
    )

    with respx.mock() as router:
        router.get("https://specs.test/openapi.yaml").mock(
            side_effect=[httpx.Response(200, text=text), httpx.Response(404)]
        )
        spec = load_spec(url)
        with pytest.raises(ConfigError) as refused:
            load_spec(url)
    integration = Integration(spec)

    shown = [
        spec.source,
        *spec.files,
        str(refused.value),
        json.dumps(integration.report.as_dict()),
        repr(spec),
    ]
    assert not [text for text in shown if "pa55" in text]
    assert "https://***@specs.test/openapi.yaml" == spec.source


def test_tokens_in_spec_and_reference_urls_are_never_shown() -> None:
    """A presigned spec URL's query, a remote `$ref`'s password and a Swagger
    host's password stay out of sources, reasons and errors."""
    url = "https://specs.test/openapi.yaml?token=QSECRET"
    text = (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "servers: [{url: 'https://api.test'}]\n"
        "paths:\n  /a:\n    get:\n      operationId: a\n"
        "      parameters: [{$ref: 'https://u:REFSECRET@remote.test/p.json#/P'}]\n"
        "      responses: {'200': {description: ok}}\n"
        "  /b: {get: {operationId: b, responses: {'200': {description: ok}}}}\n"
    )
    swagger = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "u:HOSTSECRET@api.test",
        "paths": {},
    }

    with respx.mock() as router:
        router.get(url).mock(return_value=httpx.Response(200, text=text))
        integration = Integration(load_spec(url))
    with pytest.raises(SpecError) as refused:
        load_spec(swagger)

    shown = [
        integration.spec.source,
        json.dumps(integration.report.as_dict()),
        *integration.spec.broken_refs.values(),
        str(refused.value),
    ]
    assert not [t for t in shown if "SECRET" in t]
