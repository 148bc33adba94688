"""Swagger 2.0 input that is wrong, or right in unusual ways.

Bad input gives a `SpecError` naming where and what (an operation's problem
skips only that operation), or loads with a warning saying how it was read;
never a bare Python exception.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from ourguide_caller import Integration, OurguideError
from ourguide_caller._errors import SpecError
from ourguide_caller._loader import load_spec

BASE_URL = "https://api.example.test"
OK = {"200": {"description": "ok"}}


def swagger(**fields: Any) -> dict[str, Any]:
    """A Swagger 2.0 document with one working GET /ok and `fields` added."""
    paths = {"/ok": {"get": {"operationId": "ok", "responses": OK}}}
    return {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        **fields,
    }


def with_path(path: str, item: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc = swagger(**fields)
    doc["paths"][path] = item
    return doc


def build(doc: dict[str, Any]) -> Integration:
    return Integration(doc, base_url=BASE_URL)


def skipped(integration: Integration) -> dict[str, str]:
    """{path: why} of the operations that were skipped."""
    return {op.path: op.skipped or "" for op in integration.report.skipped}


def tool(integration: Integration, name: str) -> Any:
    [found] = [t for t in integration.tools if t.name == name]
    return found


def spec_error(doc: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        build(doc)
    return caught.value


# ------------------------------------------------------------------ fuzzing

# One document using every field the conversion reads.
FULL = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "1"},
    "host": "api.example.test",
    "basePath": "/v1",
    "schemes": ["https"],
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "securityDefinitions": {
        "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
        "oauth": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://a.test/auth",
            "tokenUrl": "https://a.test/token",
            "scopes": {"read": "Read"},
        },
        "basic": {"type": "basic"},
    },
    "security": [{"key": []}],
    "definitions": {
        "Thing": {
            "type": "object",
            "discriminator": "kind",
            "properties": {"kind": {"type": "string"}, "n": {"type": "integer"}},
        }
    },
    "parameters": {
        "Limit": {"name": "limit", "in": "query", "type": "integer"},
        "Body": {
            "name": "body",
            "in": "body",
            "schema": {"$ref": "#/definitions/Thing"},
        },
    },
    "responses": {
        "Gone": {"description": "gone", "schema": {"$ref": "#/definitions/Thing"}}
    },
    "paths": {
        "/things/{id}": {
            "parameters": [{"name": "id", "in": "path", "type": "string"}],
            "get": {
                "operationId": "getThing",
                "produces": ["application/json"],
                "schemes": ["https"],
                "parameters": [
                    {"$ref": "#/parameters/Limit"},
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "multi",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "schema": {"$ref": "#/definitions/Thing"},
                        "headers": {"X-Rate": {"type": "integer"}},
                        "examples": {"application/json": {"kind": "a"}},
                    },
                    "410": {"$ref": "#/responses/Gone"},
                },
            },
            "put": {
                "operationId": "putThing",
                "consumes": ["application/json"],
                "parameters": [{"$ref": "#/parameters/Body"}],
                "responses": OK,
            },
            "post": {
                "operationId": "postForm",
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "note", "in": "formData", "type": "string"},
                    {"name": "file", "in": "formData", "type": "file"},
                    {
                        "name": "ids",
                        "in": "formData",
                        "type": "array",
                        "items": {"type": "integer"},
                        "collectionFormat": "csv",
                    },
                ],
                "responses": OK,
            },
        },
        "/plain": {
            "post": {
                "operationId": "plainBody",
                "parameters": [
                    {"name": "b", "in": "body", "schema": {"type": "string"}}
                ],
                "responses": OK,
            }
        },
    },
}

# A value of every JSON type, to put where something else belongs.
WRONG = [["x"], {"k": "v"}, 5, None, "s"]


def places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The key path of every value in `node`."""
    children = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in children:
        yield (*path, key)
        if isinstance(value, (dict, list)):
            yield from places(value, (*path, key))


def replaced(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    mutated = copy.deepcopy(doc)
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = copy.deepcopy(value)
    return mutated


def test_the_fuzzed_document_loads() -> None:
    integration = build(FULL)

    assert len(integration.tools) == 4
    assert integration.report.skipped == []


@pytest.mark.parametrize("path", [p for p in places(FULL) if p != ("swagger",)])
def test_any_field_of_the_wrong_type_is_a_spec_error_or_loads(
    path: tuple[Any, ...], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL)
    for value in WRONG:
        doc = replaced(FULL, path, value)
        try:
            build(doc)
        except OurguideError:
            pass  # a clear error, of the library's own kinds


# ------------------------------------------------------------------ 1. field types


def test_form_data_name_of_the_wrong_type_skips_the_operation_at_its_pointer() -> None:
    for name in (["x"], {"a": 1}, 5, None):
        doc = with_path(
            "/form",
            {
                "post": {
                    "parameters": [
                        {"name": "b", "in": "formData", "type": "string"},
                        {"name": name, "in": "formData", "type": "string"},
                    ],
                    "responses": OK,
                }
            },
        )

        why = skipped(build(doc))["/form"]

        assert "#/paths/~1form/post/parameters/1:" in why
        assert "string `name`" in why


def test_a_bad_parameter_after_a_body_is_reported_where_it_was_written() -> None:
    # The body parameter is taken out of the list; the report still names
    # index 1, which is where the user wrote the broken one.
    doc = with_path(
        "/a",
        {
            "post": {
                "parameters": [
                    {"name": "b", "in": "body", "schema": {"type": "object"}},
                    {"name": "q", "in": ["query"], "type": "string"},
                ],
                "responses": OK,
            }
        },
    )

    why = skipped(build(doc))["/a"]

    assert "#/paths/~1a/post/parameters/1:" in why and "'q'" in why


def test_path_level_form_data_name_list_skips_the_path() -> None:
    doc = with_path(
        "/a",
        {
            "parameters": [{"name": ["x"], "in": "formData", "type": "string"}],
            "post": {"responses": OK},
        },
    )

    assert "#/paths/~1a/parameters/0:" in skipped(build(doc))["/a"]


def test_body_name_of_the_wrong_type_is_read_without_a_name() -> None:
    doc = with_path(
        "/a",
        {
            "post": {
                "operationId": "a",
                "parameters": [
                    {"name": ["b"], "in": "body", "schema": {"type": "object"}}
                ],
                "responses": OK,
            }
        },
    )

    spec = load_spec(doc)

    assert any("#/paths/~1a/post/parameters/0: the body" in w for w in spec.warnings)
    assert "a" in [t.name for t in build(doc).tools]


def test_collection_format_of_the_wrong_type_is_csv_with_a_warning() -> None:
    param = {
        "name": "ids",
        "in": "query",
        "type": "array",
        "items": {"type": "string"},
        "collectionFormat": ["multi"],
    }
    doc = with_path("/a", {"get": {"parameters": [param], "responses": OK}})

    spec = load_spec(doc)

    [converted] = spec.document["paths"]["/a"]["get"]["parameters"]
    assert (converted["style"], converted["explode"]) == ("form", False)
    assert any("collectionFormat is a list" in w for w in spec.warnings)


def test_media_type_lists() -> None:
    form = {"name": "f", "in": "formData", "type": "string"}
    op = {"consumes": "multipart/form-data", "parameters": [form], "responses": OK}
    spec = load_spec(with_path("/a", {"post": op}))
    request = spec.document["paths"]["/a"]["post"]["requestBody"]
    assert list(request["content"]) == ["multipart/form-data"]
    assert any("read as ['multipart/form-data']" in w for w in spec.warnings)

    ignored = load_spec(with_path("/a", {"post": {**op, "consumes": 5}}))
    assert any("/consumes: must be a list" in w for w in ignored.warnings)

    error = spec_error(swagger(produces={"a": 1}))
    assert error.pointer == "/produces" and "list of media types" in str(error)


def test_security_definition_entries() -> None:
    bad_entry = spec_error(swagger(securityDefinitions={"s": "str"}))
    assert bad_entry.pointer == "/securityDefinitions/s"

    bad_type = spec_error(swagger(securityDefinitions={"s": {"type": ["apiKey"]}}))
    assert bad_type.pointer == "/securityDefinitions/s/type"

    key = {"type": "apiKey", "name": ["X-Key"], "in": "header"}
    bad_name = spec_error(swagger(securityDefinitions={"k": key}))
    assert bad_name.pointer == "/securityDefinitions/k/name"

    key = {"type": "apiKey", "name": "X-Key", "in": "body"}
    assert spec_error(swagger(securityDefinitions={"k": key})).pointer == (
        "/securityDefinitions/k/in"
    )

    flow = {"type": "oauth2", "flow": ["implicit"], "scopes": []}
    spec = load_spec(swagger(securityDefinitions={"o": flow}))
    assert any("unknown oauth2 flow" in w for w in spec.warnings)


def test_named_parameters_are_checked_with_the_document() -> None:
    named = {"P": {"name": ["p"], "in": "query", "type": "string"}}
    assert spec_error(swagger(parameters=named)).pointer == "/parameters/P/name"

    named = {"P": {"name": "p", "in": 5}}
    assert spec_error(swagger(parameters=named)).pointer == "/parameters/P/in"


def test_response_fields_of_the_wrong_type_are_ignored_with_a_warning() -> None:
    response = {"description": "x", "schema": 5, "headers": 3, "examples": []}
    doc = with_path("/a", {"get": {"operationId": "a", "responses": {"200": response}}})

    spec = load_spec(doc)

    assert spec.document["paths"]["/a"]["get"]["responses"]["200"] == {
        "description": "x"
    }
    for field in ("schema", "headers", "examples"):
        assert any(
            f"/responses/200/{field}: `{field}` must be" in w for w in spec.warnings
        )
    assert "a" in [t.name for t in build(doc).tools]


def test_paths_must_be_an_object() -> None:
    doc = swagger()
    doc["paths"] = []

    assert spec_error(doc).pointer == "/paths"


# ------------------------------------------------------------------ 2. host, basePath


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"basePath": ["x"]}, "/basePath"),
        ({"basePath": 5}, "/basePath"),
        ({"basePath": "/v1?x=1"}, "/basePath"),
        ({"host": ["a"]}, "/host"),
        ({"host": {"a": 1}}, "/host"),
        ({"host": 5}, "/host"),
        ({"host": "api.example.test/v1"}, "/host"),
        ({"host": "a b"}, "/host"),
        ({"host": "https://"}, "/host"),
    ],
)
def test_unusable_host_or_base_path_is_a_spec_error(
    fields: dict[str, Any], pointer: str
) -> None:
    error = spec_error(swagger(**fields))

    assert error.pointer == pointer
    assert "Fix the document" in str(error)


# ------------------------------------------------------------------ 3. servers


@pytest.mark.parametrize(
    ("fields", "url", "warned"),
    [
        ({"schemes": "https"}, "https://api.ex.test/v1", "read as ['https']"),
        ({"schemes": ["HTTPS"]}, "https://api.ex.test/v1", None),
        ({"schemes": ["ws"]}, "https://api.ex.test/v1", "'ws' ignored"),
        ({"schemes": ["wss", "http"]}, "http://api.ex.test/v1", "'wss' ignored"),
        ({"schemes": [5]}, "https://api.ex.test/v1", "5 ignored"),
        ({"host": "https://api.ex.test/"}, "https://api.ex.test/v1", "read as"),
        (
            {"host": "http://api.ex.test", "schemes": None},
            "http://api.ex.test/v1",
            "scheme http",
        ),
        (
            {"host": "http://api.ex.test", "schemes": ["https"]},
            "https://api.ex.test/v1",
            "read as 'api.ex.test'",
        ),
        ({"host": "ftp://api.ex.test"}, "https://api.ex.test/v1", "cannot be called"),
        ({"basePath": "v1"}, "https://api.ex.test/v1", "read as '/v1'"),
        ({"basePath": "/v1/"}, "https://api.ex.test/v1", None),
        ({"basePath": "/"}, "https://api.ex.test", None),
    ],
)
def test_servers_are_built_from_host_schemes_and_base_path(
    fields: dict[str, Any], url: str, warned: str | None
) -> None:
    base = {"host": "api.ex.test", "basePath": "/v1", "schemes": ["https"]}
    spec = load_spec(swagger(**{**base, **fields}))

    assert spec.document["servers"] == [{"url": url}]
    if warned is None:
        assert spec.warnings == ()
    else:
        assert any(warned in w for w in spec.warnings), spec.warnings


def test_relative_server_from_base_path_is_normalised() -> None:
    spec = load_spec(swagger(basePath="api/"))

    assert spec.document["servers"] == [{"url": "/api"}]


def test_operation_schemes_are_read_like_the_document_ones() -> None:
    op = {"operationId": "a", "schemes": "HTTP", "responses": OK}
    spec = load_spec(with_path("/a", {"get": op}, host="h", schemes=["https"]))

    assert spec.document["paths"]["/a"]["get"]["servers"] == [{"url": "http://h"}]

    ignored = load_spec(with_path("/a", {"get": {**op, "schemes": 5}}, host="h"))
    assert "servers" not in ignored.document["paths"]["/a"]["get"]
    assert any("/schemes: `schemes` must be a list" in w for w in ignored.warnings)


# ------------------------------------------------------------------ 4. refs


def internal_refs_doc() -> dict[str, Any]:
    body = {"type": "object", "properties": {"x": {"type": "string"}}}
    return swagger(
        paths={
            "/a": {
                "post": {
                    "operationId": "a",
                    "parameters": [
                        {"name": "b", "in": "body", "schema": body},
                        {"name": "q", "in": "query", "type": "string"},
                        {"name": "r", "in": "query", "type": "integer"},
                    ],
                    "responses": OK,
                }
            },
            "/b": {
                "post": {
                    "operationId": "b",
                    "parameters": [
                        {
                            "name": "b",
                            "in": "body",
                            "schema": {"$ref": "#/paths/~1a/post/parameters/0/schema"},
                        }
                    ],
                    "responses": OK,
                }
            },
            "/c": {
                "get": {
                    "operationId": "c",
                    "responses": {
                        "200": {
                            "description": "x",
                            "schema": {"$ref": "#/responses/Y/schema"},
                        }
                    },
                }
            },
            "/d": {
                "post": {
                    "operationId": "d",
                    "parameters": [
                        {"$ref": "#/paths/~1a/post/parameters/0"},
                        {"$ref": "#/paths/~1a/post/parameters/2"},
                    ],
                    "responses": OK,
                }
            },
        },
        responses={"Y": {"description": "y", "schema": {"type": "integer"}}},
    )


def test_refs_into_moved_parts_follow_them() -> None:
    doc = internal_refs_doc()

    integration = build(doc)
    paths = integration.spec.document["paths"]

    assert integration.report.skipped == []
    assert tool(integration, "b").input_schema["properties"] == {
        "x": {"type": "string"}
    }
    assert set(tool(integration, "d").input_schema["properties"]) == {"x", "r"}
    assert tool(integration, "d").input_schema["properties"]["r"] == {"type": "integer"}
    schema = paths["/b"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {
        "$ref": "#/paths/~1a/post/requestBody/content/application~1json/schema"
    }
    # The body was taken out of /a's list, so the query parameter moved up.
    assert paths["/d"]["post"]["parameters"] == [
        {"$ref": "#/paths/~1a/post/parameters/1"}
    ]
    response = paths["/c"]["get"]["responses"]["200"]["content"]["application/json"]
    assert response["schema"] == {
        "$ref": "#/components/responses/Y/content/application~1json/schema"
    }


def test_refs_into_a_named_body_parameter_follow_it() -> None:
    doc = with_path(
        "/a",
        {
            "post": {
                "operationId": "a",
                "parameters": [{"$ref": "#/parameters/B"}],
                "responses": OK,
            },
            "put": {
                "operationId": "p",
                "parameters": [
                    {
                        "name": "c",
                        "in": "body",
                        "schema": {"$ref": "#/parameters/B/schema"},
                    }
                ],
                "responses": OK,
            },
        },
        parameters={
            "B": {
                "name": "b",
                "in": "body",
                "schema": {"type": "object", "properties": {"y": {"type": "integer"}}},
            }
        },
    )

    integration = build(doc)

    assert integration.report.skipped == []
    assert set(tool(integration, "p").input_schema["properties"]) == {"y"}


def test_refs_to_nothing_name_the_pointer_the_user_wrote() -> None:
    for ref in (
        "#/parameters/nope",
        "#/definitions/Nope",
        "#/definitions/A/properties/z",
    ):
        schema_ref = {"name": "b", "in": "body", "schema": {"$ref": ref}}
        entry = {"$ref": ref} if ref.startswith("#/parameters") else schema_ref
        doc = with_path(
            "/a",
            {"post": {"parameters": [entry], "responses": OK}},
            definitions={"A": {"type": "object"}},
        )

        why = skipped(build(doc))["/a"]

        assert f"$ref target {ref} does not exist" in why, why


def test_a_ref_whose_target_has_no_place_in_openapi_3_is_reported() -> None:
    # A parameter's `items` becomes part of its schema: there is nothing left
    # to point at.
    doc = with_path(
        "/a",
        {
            "get": {
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                    }
                ],
                "responses": OK,
            },
            "post": {
                "parameters": [
                    {
                        "name": "b",
                        "in": "body",
                        "schema": {"$ref": "#/paths/~1a/get/parameters/0/items"},
                    }
                ],
                "responses": OK,
            },
        },
    )

    spec = load_spec(doc)

    assert any(
        "/paths/~1a/get/parameters/0/items: $ref" in w and "no place in OpenAPI 3" in w
        for w in spec.warnings
    )


# ------------------------------------------------------------------ 5. sections


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"definitions": [1]}, "/definitions"),
        ({"definitions": "x"}, "/definitions"),
        ({"securityDefinitions": [1]}, "/securityDefinitions"),
        ({"securityDefinitions": "x"}, "/securityDefinitions"),
        ({"parameters": [1]}, "/parameters"),
        ({"responses": "x"}, "/responses"),
        ({"parameters": {"P": 5}}, "/parameters/P"),
        ({"responses": {"R": []}}, "/responses/R"),
    ],
)
def test_root_sections_of_the_wrong_type_are_spec_errors(
    fields: dict[str, Any], pointer: str
) -> None:
    error = spec_error(swagger(**fields))

    assert error.pointer == pointer
    assert "must be an object" in str(error)


def test_dropped_security_definitions_would_send_credentials_everywhere() -> None:
    error = spec_error(swagger(securityDefinitions=[{"type": "basic"}]))

    assert "credentials" in str(error)


@pytest.mark.parametrize("parameters", ["x", 5, {"name": "q"}])
def test_operation_parameters_not_a_list_skip_the_operation(parameters: Any) -> None:
    doc = with_path("/a", {"get": {"parameters": parameters, "responses": OK}})

    why = skipped(build(doc))["/a"]

    assert "#/paths/~1a/get/parameters:" in why and "must be a list" in why


def test_operations_and_path_item_fields_beside_refs_are_converted():
    """A Swagger 2.0 operation kept elsewhere (`get: {$ref}`), and an
    operation written beside a path item's `$ref`, get the same conversion as
    any other: typed query parameters, collectionFormat, an `in: body`."""
    body = {"name": "body", "in": "body", "schema": {"type": "object"}}
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.test",
        "paths": {
            "/a": {"get": {"$ref": "#/x-ops/getA"}},
            "/b": {
                "$ref": "#/x-items/b",
                "post": {
                    "operationId": "postB",
                    "parameters": [body],
                    "responses": {"200": {"description": "ok"}},
                },
            },
        },
        "x-ops": {
            "getA": {
                "operationId": "getA",
                "parameters": [
                    {"name": "k", "in": "query", "type": "integer", "enum": [1, 2]},
                    {
                        "name": "l",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "pipes",
                    },
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "x-items": {
            "b": {
                "get": {
                    "operationId": "getB",
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }

    integration = Integration(document)

    get_a, get_b, post_b = integration.tools
    assert {"type": "integer", "enum": [1, 2]} == get_a.input_schema["properties"]["k"]
    assert "pipeDelimited" == get_a.arguments[1].style
    assert (get_b.name, post_b.name, post_b.body.media_type) == (
        "getB",
        "postB",
        "application/json",
    )
    assert [] == integration.report.skipped
