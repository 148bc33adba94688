"""Tests of `_swagger2.convert_swagger2`: Swagger 2.0 in, OpenAPI 3.0.3 out."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest

from ourguide_caller._loader import load_spec
from ourguide_caller._swagger2 import convert_swagger2

REAL = Path(__file__).resolve().parents[2] / "shared" / "specs" / "real"


def swagger(**fields: Any) -> dict[str, Any]:
    """A minimal Swagger 2.0 document with `fields` added."""
    return {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.example.com",
        "schemes": ["https"],
        "paths": {},
        **fields,
    }


def operation(
    parameters: list[dict[str, Any]], **fields: Any
) -> dict[str, dict[str, Any]]:
    """Paths with one POST /things operation taking `parameters`."""
    op = {"parameters": parameters, "responses": {"200": {"description": "ok"}}}
    return {"/things": {"post": {**op, **fields}}}


def convert(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return convert_swagger2(doc, source="t.yaml")


def post(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["paths"]["/things"]["post"]


# ------------------------------------------------------------------ bodies


def test_body_parameter_becomes_request_body() -> None:
    body = {
        "name": "payload",
        "in": "body",
        "required": True,
        "description": "The thing",
        "schema": {"$ref": "#/definitions/Thing"},
    }
    doc = swagger(
        consumes=["application/json", "application/xml"],
        paths=operation([body, {"name": "q", "in": "query", "type": "string"}]),
        definitions={"Thing": {"type": "object"}},
    )

    out, warnings = convert(doc)

    request = post(out)["requestBody"]
    assert request["required"] is True
    assert request["description"] == "The thing"
    assert list(request["content"]) == ["application/json", "application/xml"]
    schema = request["content"]["application/xml"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Thing"}
    assert request["x-codegen-request-body-name"] == "payload"
    assert [p["name"] for p in post(out)["parameters"]] == ["q"]
    assert out["openapi"] == "3.0.3" and "swagger" not in out
    assert warnings == []


def test_body_content_type_defaults() -> None:
    body = {"name": "b", "in": "body", "schema": {"type": "object"}}
    own = operation([body], consumes=["text/plain"])
    none = operation([body])

    assert list(post(convert(swagger(paths=own))[0])["requestBody"]["content"]) == [
        "text/plain"
    ]
    request = post(convert(swagger(paths=none))[0])["requestBody"]
    assert list(request["content"]) == ["application/json"]
    assert request["required"] is False


def test_form_data_with_file_becomes_multipart() -> None:
    params = [
        {"name": "note", "in": "formData", "type": "string", "description": "A note"},
        {"name": "upload", "in": "formData", "type": "file", "required": True},
    ]

    out, _ = convert(swagger(paths=operation(params)))

    request = post(out)["requestBody"]
    assert request["required"] is True
    schema = request["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["upload"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["note"] == {"type": "string", "description": "A note"}
    assert schema["required"] == ["upload"]
    assert "parameters" not in post(out)


def test_form_data_without_file_is_urlencoded_unless_multipart_consumed() -> None:
    params = [
        {"name": "tags", "in": "formData", "type": "array", "items": {"type": "string"}}
    ]

    plain = post(convert(swagger(paths=operation(params)))[0])["requestBody"]
    multi = operation(params, consumes=["multipart/form-data"])
    multipart = post(convert(swagger(paths=multi))[0])["requestBody"]

    form = plain["content"]["application/x-www-form-urlencoded"]
    assert form["encoding"] == {"tags": {"style": "form", "explode": False}}
    assert "multipart/form-data" in multipart["content"]


def test_named_body_parameter_is_inlined() -> None:
    doc = swagger(
        parameters={
            "Body": {"name": "body", "in": "body", "schema": {"type": "string"}},
            "Limit": {"name": "limit", "in": "query", "type": "integer"},
        },
        paths=operation(
            [{"$ref": "#/parameters/Body"}, {"$ref": "#/parameters/Limit"}]
        ),
    )

    out, _ = convert(doc)

    assert post(out)["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "string"
    }
    assert post(out)["parameters"] == [{"$ref": "#/components/parameters/Limit"}]
    assert list(out["components"]["parameters"]) == ["Limit"]
    assert out["components"]["parameters"]["Limit"]["schema"] == {"type": "integer"}


def test_path_level_parameters_stay_and_bodies_move_to_operations() -> None:
    doc = swagger(
        paths={
            "/things/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "type": "string"},
                    {"name": "b", "in": "body", "schema": {"type": "object"}},
                ],
                "put": {"responses": {"200": {"description": "ok"}}},
            }
        }
    )

    out, _ = convert(doc)

    item = out["paths"]["/things/{id}"]
    assert item["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert "application/json" in item["put"]["requestBody"]["content"]


# ------------------------------------------------------------------ parameters


@pytest.mark.parametrize(
    ("location", "collection", "style", "explode"),
    [
        ("query", None, "form", False),
        ("query", "csv", "form", False),
        ("query", "multi", "form", True),
        ("query", "ssv", "spaceDelimited", False),
        ("query", "pipes", "pipeDelimited", False),
        ("path", "csv", "simple", False),
        ("header", "csv", "simple", False),
    ],
)
def test_collection_formats(
    location: str, collection: str | None, style: str, explode: bool
) -> None:
    param: dict[str, Any] = {
        "name": "ids",
        "in": location,
        "type": "array",
        "items": {"type": "integer", "format": "int64"},
    }
    if collection:
        param["collectionFormat"] = collection

    out, warnings = convert(swagger(paths=operation([param])))

    [converted] = post(out)["parameters"]
    assert converted["style"] == style and converted["explode"] is explode
    assert converted["schema"] == {
        "type": "array",
        "items": {"type": "integer", "format": "int64"},
    }
    assert "collectionFormat" not in converted and warnings == []


def test_tsv_is_treated_as_csv_with_a_warning() -> None:
    param = {
        "name": "ids",
        "in": "query",
        "type": "array",
        "items": {"type": "string"},
        "collectionFormat": "tsv",
    }

    out, warnings = convert(swagger(paths=operation([param])))

    assert post(out)["parameters"][0]["style"] == "form"
    [warning] = warnings
    assert warning.startswith("t.yaml#/paths/~1things/post/parameters/0: ")
    assert "tsv" in warning


def test_parameter_schema_fields_and_flags() -> None:
    param = {
        "name": "size",
        "in": "query",
        "description": "Page size",
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
        "enum": [10, 20, 50],
        "allowEmptyValue": True,
        "x-nullable": True,
        "x-internal": "kept",
    }

    out, _ = convert(swagger(paths=operation([param])))

    assert post(out)["parameters"][0] == {
        "name": "size",
        "in": "query",
        "description": "Page size",
        "allowEmptyValue": True,
        "x-internal": "kept",
        "schema": {
            "type": "integer",
            "enum": [10, 20, 50],
            "default": 20,
            "minimum": 1,
            "maximum": 100,
            "nullable": True,
        },
    }


# ------------------------------------------------------------------ responses


def test_responses_get_content_from_produces() -> None:
    doc = swagger(
        produces=["application/json"],
        paths={
            "/things": {
                "get": {
                    "produces": ["application/json", "text/csv"],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"type": "array", "items": {"type": "string"}},
                            "headers": {"X-Rate": {"type": "integer"}},
                            "examples": {"application/json": ["a"]},
                        },
                        "204": {"description": "nothing"},
                        "404": {"$ref": "#/responses/NotFound"},
                    },
                }
            }
        },
        responses={
            "NotFound": {"description": "gone", "schema": {"$ref": "#/definitions/E"}}
        },
        definitions={"E": {"type": "object"}},
    )

    out, _ = convert(doc)

    responses = out["paths"]["/things"]["get"]["responses"]
    ok = responses["200"]
    assert list(ok["content"]) == ["application/json", "text/csv"]
    assert ok["content"]["application/json"]["example"] == ["a"]
    assert ok["headers"]["X-Rate"] == {"schema": {"type": "integer"}}
    assert "content" not in responses["204"]
    assert responses["404"] == {"$ref": "#/components/responses/NotFound"}
    not_found = out["components"]["responses"]["NotFound"]
    assert not_found["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/E"
    }


def test_schema_keywords_that_changed() -> None:
    doc = swagger(
        definitions={
            "Pet": {
                "type": "object",
                "discriminator": "kind",
                "properties": {
                    "x-nullable": {"type": "boolean"},  # a property of that name
                    "photo": {"type": "file"},
                    "owner": {"$ref": "#/definitions/Owner", "x-nullable": True},
                },
            },
            "Owner": {"type": "object"},
        }
    )

    out, _ = convert(doc)

    pet = out["components"]["schemas"]["Pet"]
    assert pet["discriminator"] == {"propertyName": "kind"}
    assert "nullable" not in pet["properties"]
    assert pet["properties"]["photo"] == {"type": "string", "format": "binary"}
    assert pet["properties"]["owner"] == {
        "$ref": "#/components/schemas/Owner",
        "nullable": True,
    }


def test_refs_are_rewritten_everywhere_including_bundled_files() -> None:
    doc = swagger(
        definitions={"A": {"type": "string"}},
        **{
            "x-ourguide-bundled": {
                "models.yaml": {"B": {"items": {"$ref": "#/definitions/A"}}}
            }
        },
    )

    out, _ = convert(doc)

    bundled = out["x-ourguide-bundled"]["models.yaml"]
    assert bundled["B"]["items"]["$ref"] == "#/components/schemas/A"


def test_input_is_not_modified() -> None:
    doc = swagger(
        paths=operation([{"name": "b", "in": "body", "schema": {"type": "object"}}]),
        definitions={"A": {"$ref": "#/definitions/B"}, "B": {"type": "string"}},
    )
    before = copy.deepcopy(doc)

    convert(doc)

    assert doc == before


# ------------------------------------------------------------------ servers, security


@pytest.mark.parametrize(
    ("fields", "servers", "warned"),
    [
        ({"schemes": ["http", "https"], "basePath": "/v1"}, ["https://h/v1"], False),
        ({"schemes": ["http"], "basePath": "/"}, ["http://h"], False),
        ({"schemes": [], "basePath": "/api/"}, ["https://h/api"], True),
    ],
)
def test_servers_from_host(
    fields: dict[str, Any], servers: list[str], warned: bool
) -> None:
    out, warnings = convert(swagger(**{"host": "h", **fields}))

    assert [s["url"] for s in out["servers"]] == servers
    assert bool(warnings) is warned


def test_no_host_gives_a_relative_server_or_none() -> None:
    relative, warned = convert({**swagger(basePath="/api"), "host": None})
    bare = swagger()
    del bare["host"]
    nothing, warned_too = convert(bare)

    assert relative["servers"] == [{"url": "/api"}]
    assert "relative" in warned[0] and warned[0].startswith("t.yaml#/host: ")
    assert "servers" not in nothing
    assert "no host or basePath" in warned_too[0]


def test_security_definitions() -> None:
    doc = swagger(
        securityDefinitions={
            "basic": {"type": "basic", "description": "user:pass"},
            "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
            "implicit": {
                "type": "oauth2",
                "flow": "implicit",
                "authorizationUrl": "https://a/auth",
                "scopes": {"read": "Read"},
            },
            "password": {
                "type": "oauth2",
                "flow": "password",
                "tokenUrl": "https://a/t",
            },
            "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://a/t"},
            "code": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://a/auth",
                "tokenUrl": "https://a/t",
            },
        },
        security=[{"key": []}],
    )

    out, warnings = convert(doc)

    schemes = out["components"]["securitySchemes"]
    assert schemes["basic"] == {
        "type": "http",
        "scheme": "basic",
        "description": "user:pass",
    }
    assert schemes["key"] == {"type": "apiKey", "name": "X-Key", "in": "header"}
    assert schemes["implicit"]["flows"] == {
        "implicit": {"authorizationUrl": "https://a/auth", "scopes": {"read": "Read"}}
    }
    assert list(schemes["password"]["flows"]) == ["password"]
    assert schemes["app"]["flows"] == {
        "clientCredentials": {"tokenUrl": "https://a/t", "scopes": {}}
    }
    assert set(schemes["code"]["flows"]["authorizationCode"]) == {
        "authorizationUrl",
        "tokenUrl",
        "scopes",
    }
    assert out["security"] == [{"key": []}]
    assert warnings == []


# ------------------------------------------------------------------ real corpus

SWAGGER2_SPECS = [
    "kubernetes/swagger.json",
    "netlify/swagger.yml",
    "zoom/openapi.v2.json",
    "gotify/spec.json",
    "slack-web/slack_web_openapi_v2.json",
    "swagger-petstore-v2/petstore.json",
    "oai-petstore-separate-v2/spec/swagger.yaml",
]
# Small enough to validate in a second; the others carry their own schema errors
# (zoom: defaults of the wrong type, slack: tuple `items`).
VALIDATED = {
    "netlify/swagger.yml",
    "gotify/spec.json",
    "swagger-petstore-v2/petstore.json",
}


@pytest.mark.corpus
@pytest.mark.skipif(not REAL.is_dir(), reason="no real spec corpus")
@pytest.mark.parametrize("root", SWAGGER2_SPECS)
def test_real_swagger2_specs_convert(root: str) -> None:
    spec = load_spec(REAL / root)
    doc = spec.document

    assert spec.original_version == "2.0" and doc["openapi"] == "3.0.3"
    assert not {"definitions", "securityDefinitions", "swagger"} & set(doc)
    for item in doc["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                params = op.get("parameters", [])
                assert all(p.get("in") not in ("body", "formData") for p in params)
    if root in VALIDATED:
        from openapi_spec_validator import OpenAPIV30SpecValidator

        errors = OpenAPIV30SpecValidator(doc).iter_errors()
        assert list(itertools.islice(errors, 3)) == []
