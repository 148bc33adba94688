"""Conversion of a Swagger 2.0 document into an equivalent OpenAPI 3.0.3 one.

The loader calls `convert_swagger2` after bundling, so the input is one document
whose other files sit under `x-ourguide-bundled`. The conversion works on a copy
(the input is never modified) and returns the new document with a list of
warnings, each naming the JSON pointer of what it could not carry over exactly.

What changes, in short: `host`/`basePath`/`schemes` become `servers`;
`definitions`/`parameters`/`responses`/`securityDefinitions` move under
`components` (and every `$ref` to them follows); `body` and `formData` parameters
become a `requestBody`; other parameters get a `schema` and a `style`; response
`schema`s get a `content` per `produces` media type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from ._refs import join_pointer, split_pointer

__all__ = ["convert_swagger2"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

# `$ref` prefixes of Swagger 2.0 sections and where OpenAPI 3 keeps them.
_MOVED = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}
# The reverse, as pointer tokens: looking up a rewritten ref in the 2.0 copy.
_SECTION_OF = {
    "schemas": "definitions",
    "parameters": "parameters",
    "responses": "responses",
}

# Root fields that exist only in Swagger 2.0; everything else is carried over.
_SWAGGER_ONLY = frozenset(
    {
        "swagger",
        "host",
        "basePath",
        "schemes",
        "consumes",
        "produces",
        "definitions",
        "parameters",
        "responses",
        "securityDefinitions",
    }
)

# Fields of a non-body parameter (or header, or items object) that describe its
# value and so move into the OpenAPI 3 `schema`.
_SCHEMA_FIELDS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "nullable",
)

_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

# collectionFormat -> (style, explode) for query parameters and form fields.
_QUERY_STYLES = {
    "csv": ("form", False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
}

_OAUTH_FLOWS = {
    "implicit": ("implicit", ("authorizationUrl",)),
    "password": ("password", ("tokenUrl",)),
    "application": ("clientCredentials", ("tokenUrl",)),
    "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl")),
}

# How many `$ref` hops to follow before giving up (loops are reported later, by
# RefResolver, with the whole chain).
_MAX_HOPS = 32


def convert_swagger2(
    doc: Mapping[str, Any], *, source: str
) -> tuple[dict[str, Any], list[str]]:
    """Convert the Swagger 2.0 `doc` into OpenAPI 3.0.3; return it and warnings.

    `source` names the document in the warnings ("<source>#<pointer>: ...").
    """
    converter = _Converter(_copy_with_refs_moved(doc), source=source)
    return converter.run(), converter.warnings


def _copy_with_refs_moved(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Copy every container of `doc`, fixing what differs in 3.0 on the way.

    Shared nodes stay shared (memoised by `id()`), so YAML anchors cost nothing.
    Each copied mapping gets `_fix_schema_fields`; `$ref`s to the moved sections
    are rewritten anywhere, including inside bundled files.
    """
    memo: dict[int, Any] = {}
    pending: list[tuple[Any, Any]] = []

    def copied(value: Any) -> Any:
        if not isinstance(value, (Mapping, list)):
            return value
        twin = memo.get(id(value))
        if twin is None:
            twin = {} if isinstance(value, Mapping) else []
            memo[id(value)] = twin
            pending.append((value, twin))
        return twin

    root = copied(doc)
    while pending:
        original, twin = pending.pop()
        if isinstance(twin, dict):
            for key, value in original.items():
                twin[key] = copied(value)
            _fix_schema_fields(twin)
        else:
            twin.extend(copied(value) for value in original)
    return root


def _fix_schema_fields(node: dict[str, Any]) -> None:
    """The 2.0 spellings that 3.0 changed, wherever they appear."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        for old, new in _MOVED.items():
            if ref.startswith(old):
                node["$ref"] = new + ref[len(old) :]
                break

    # Only a boolean: a `properties` map may well hold a property of that name.
    if isinstance(node.get("x-nullable"), bool):
        node["nullable"] = node.pop("x-nullable")
    if isinstance(node.get("discriminator"), str):
        node["discriminator"] = {"propertyName": node["discriminator"]}
    # A parameter (it has `in`) keeps `type: file`: it decides multipart below.
    if node.get("type") == "file" and "in" not in node:
        node["type"] = "string"
        node["format"] = "binary"


class _Converter:
    """One conversion: the 2.0 copy being rewritten in place, and its findings."""

    def __init__(self, doc: dict[str, Any], *, source: str) -> None:
        self.doc = doc
        self.source = source
        self.warnings: list[str] = []
        self.consumes = _media_list(doc.get("consumes"))
        self.produces = _media_list(doc.get("produces"))
        # Named body/formData parameters: OpenAPI 3 has no such parameters, so each
        # use is inlined into the operation's requestBody.
        self.body_params: dict[str, dict[str, Any]] = {}
        self.converted: set[int] = set()
        self.server_scheme: str | None = None
        self.server_url: str | None = None

    def warn(self, pointer: str, message: str) -> None:
        self.warnings.append(f"{self.source}#{pointer}: {message}")

    # ---- the document

    def run(self) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {"openapi": "3.0.3"}
        if "info" in doc:
            out["info"] = doc["info"]
        servers = self.servers()
        if servers:
            out["servers"] = servers

        components = self.components()
        for key, value in doc.items():
            if key not in _SWAGGER_ONLY and key not in out:
                out[key] = value
        if isinstance(out.get("paths"), dict):
            self.paths(out["paths"])
        if components:
            out["components"] = components
        return out

    def servers(self) -> list[dict[str, Any]]:
        doc = self.doc
        host = doc.get("host")
        base_path = doc.get("basePath")
        if isinstance(base_path, str) and not base_path.startswith("/"):
            base_path = "/" + base_path
        if not host:
            if base_path:
                self.warn(
                    "/host",
                    f"no host, so the server URL is the relative {base_path!r}; it is "
                    "resolved against the spec's URL, or set the base URL in the "
                    "configuration",
                )
                return [{"url": base_path}]
            self.warn(
                "/host",
                "no host or basePath, so the document names no server; set the "
                "API's base URL in the configuration",
            )
            return []

        schemes = [s for s in doc.get("schemes") or [] if isinstance(s, str)]
        if not schemes:
            self.warn("/schemes", "no schemes listed; assumed https")
        scheme = "https" if not schemes or "https" in schemes else schemes[0]
        path = "" if base_path in (None, "/") else base_path.rstrip("/")
        self.server_scheme = scheme
        self.server_url = f"{scheme}://{host}{path}"
        return [{"url": self.server_url}]

    def components(self) -> dict[str, Any]:
        doc = self.doc
        components: dict[str, Any] = {}
        if isinstance(doc.get("definitions"), dict):
            components["schemas"] = doc["definitions"]

        parameters = {}
        for name, param in _entries(doc.get("parameters")):
            pointer = join_pointer("/parameters", name)
            if param.get("in") in ("body", "formData"):
                self.body_params[name] = param
            else:
                parameters[name] = self.parameter(param, pointer)
        if parameters:
            components["parameters"] = parameters

        responses = {}
        for name, response in _entries(doc.get("responses")):
            pointer = join_pointer("/responses", name)
            responses[name] = self.response(response, self.produces, pointer)
        if responses:
            components["responses"] = responses

        schemes = {}
        for name, scheme in _entries(doc.get("securityDefinitions")):
            pointer = join_pointer("/securityDefinitions", name)
            converted = self.security_scheme(scheme, pointer)
            if converted is not None:
                schemes[name] = converted
        if schemes:
            components["securitySchemes"] = schemes
        return components

    # ---- paths and operations

    def paths(self, paths: dict[str, Any]) -> None:
        for path, item in paths.items():
            if isinstance(item, dict) and not path.startswith("x-"):
                self.path_item(item, join_pointer("/paths", path))

    def path_item(self, item: dict[str, Any], pointer: str) -> None:
        if "$ref" in item:
            # A path item kept in another file: convert it where it lives.
            target = self.lookup(item["$ref"])
            if isinstance(target, dict) and not self.seen(target):
                self.path_item(target, pointer + "/$ref")
            return

        shared_bodies = self.split_parameters(item, pointer)

        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                where = join_pointer(pointer, method)
                self.operation(operation, where, shared_bodies)

    def operation(
        self,
        op: dict[str, Any],
        pointer: str,
        shared_bodies: list[tuple[dict[str, Any], str]],
    ) -> None:
        consumes = _media_list(op.pop("consumes", None)) or self.consumes
        produces = _media_list(op.pop("produces", None)) or self.produces
        self.operation_schemes(op, op.pop("schemes", None))

        bodies = self.split_parameters(op, pointer)

        # Path-level body/formData parameters apply unless the operation
        # redefines one of the same name and location.
        own = {(p.get("name"), p.get("in")) for p, _ in bodies}
        bodies += [
            (p, w) for p, w in shared_bodies if (p.get("name"), p.get("in")) not in own
        ]
        request = self.request_body(bodies, consumes)
        if request is not None:
            op["requestBody"] = request

        responses = op.get("responses")
        if isinstance(responses, dict):
            for code, response in list(responses.items()):
                if isinstance(response, dict) and not str(code).startswith("x-"):
                    where = join_pointer(pointer, "responses", code)
                    responses[code] = self.response_use(response, produces, where)
        else:
            self.warn(pointer, "the operation lists no responses")

    def split_parameters(
        self, holder: dict[str, Any], pointer: str
    ) -> list[tuple[dict[str, Any], str]]:
        """Convert `holder`'s parameters in place, taking out the body and
        formData ones (returned with their pointers): OpenAPI 3 has none."""
        bodies = []
        kept = []
        for index, param in enumerate(_list(holder.get("parameters"))):
            where = join_pointer(pointer, "parameters", index)
            actual = self.deref(param)
            if isinstance(actual, dict) and actual.get("in") in ("body", "formData"):
                bodies.append((actual, where))
            else:
                kept.append(self.parameter_use(param, where))
        _set_or_drop(holder, "parameters", kept)
        return bodies

    def operation_schemes(self, op: dict[str, Any], schemes: Any) -> None:
        """An operation restricted to schemes without the server's one gets its
        own server (OpenAPI 3 has no per-operation schemes)."""
        if not isinstance(schemes, list) or not schemes:
            return
        if self.server_url is None or self.server_scheme in schemes:
            return
        scheme = "https" if "https" in schemes else str(schemes[0])
        rest = self.server_url[len(str(self.server_scheme)) :]
        op["servers"] = [{"url": scheme + rest}]

    # ---- request bodies

    def request_body(
        self, bodies: list[tuple[dict[str, Any], str]], consumes: list[str]
    ) -> dict[str, Any] | None:
        body = [(p, w) for p, w in bodies if p.get("in") == "body"]
        form = [(p, w) for p, w in bodies if p.get("in") == "formData"]
        if len(body) > 1:
            self.warn(body[1][1], "a second body parameter; only the first is used")
        if body and form:
            self.warn(
                form[0][1],
                "formData parameters next to a body parameter (not valid in "
                "Swagger 2.0); the body parameter is used and these are dropped",
            )
        if body:
            return self.body_request(*body[0], consumes)
        if form:
            return self.form_request(form, consumes)
        return None

    def body_request(
        self, param: dict[str, Any], pointer: str, consumes: list[str]
    ) -> dict[str, Any]:
        schema = param.get("schema")
        if not isinstance(schema, dict):
            self.warn(
                pointer, "the body parameter has no schema; any value is accepted"
            )
            schema = {}
        request: dict[str, Any] = {}
        if param.get("description"):
            request["description"] = param["description"]
        request["content"] = {
            media: {"schema": schema} for media in consumes or [_JSON]
        }
        request["required"] = bool(param.get("required", False))
        if isinstance(param.get("name"), str):
            # Tool generators use it to name the body argument, as 2.0 did.
            request["x-codegen-request-body-name"] = param["name"]
        return request

    def form_request(
        self, form: list[tuple[dict[str, Any], str]], consumes: list[str]
    ) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        encoding: dict[str, Any] = {}
        has_file = False
        for param, pointer in form:
            name = str(param.get("name", ""))
            has_file = has_file or param.get("type") == "file"
            field = self.convert_parameter(dict(param), pointer)
            schema = dict(field["schema"])
            if param.get("description"):
                schema["description"] = param["description"]
            properties[name] = schema
            if param.get("required"):
                required.append(name)
            if "style" in field:
                encoding[name] = {"style": field["style"], "explode": field["explode"]}

        media = _MULTIPART if has_file or _MULTIPART in consumes else _FORM
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        content: dict[str, Any] = {"schema": schema}
        if encoding:
            content["encoding"] = encoding
        request: dict[str, Any] = {"content": {media: content}}
        if required:
            request["required"] = True
        return request

    # ---- parameters

    def parameter_use(self, param: Any, pointer: str) -> Any:
        """A parameter as listed by a path item or operation: a reference stays a
        reference (its target converted where it lives), an inline one converts."""
        if not isinstance(param, dict):
            return param
        if "$ref" not in param:
            return self.parameter(param, pointer)
        target = self.deref(param)
        if isinstance(target, dict) and target is not param:
            self.parameter(target, pointer + "/$ref")
        return param

    def parameter(self, param: dict[str, Any], pointer: str) -> dict[str, Any]:
        """Convert a non-body 2.0 parameter in place (once) and return it."""
        if "$ref" in param or "schema" in param or self.seen(param):
            return param
        return self.convert_parameter(param, pointer)

    def convert_parameter(self, param: dict[str, Any], pointer: str) -> dict[str, Any]:
        schema = self.value_schema(param, pointer)
        collection = param.pop("collectionFormat", None)
        if param.get("in") == "path":
            param["required"] = True
        if schema.get("type") == "array":
            self.style(param, collection, pointer)
        elif collection is not None:
            self.warn(pointer, "collectionFormat on a parameter that is not an array")
        param["schema"] = schema
        return param

    def value_schema(self, holder: dict[str, Any], pointer: str) -> dict[str, Any]:
        """Move the value fields of a parameter/header/items object into a schema."""
        schema: dict[str, Any] = {}
        for name in _SCHEMA_FIELDS:
            if name in holder:
                schema[name] = holder.pop(name)
        if schema.get("type") == "file":
            schema["type"] = "string"
            schema["format"] = "binary"
        items = schema.get("items")
        if isinstance(items, dict) and "$ref" not in items:
            items = dict(items)
            items.pop("collectionFormat", None)  # nested arrays: only csv is usable
            schema["items"] = self.value_schema(items, pointer + "/items")
        return schema

    def style(self, param: dict[str, Any], collection: Any, pointer: str) -> None:
        fmt = collection or "csv"  # the 2.0 default
        if fmt == "tsv":
            self.warn(
                pointer,
                "collectionFormat tsv has no OpenAPI 3 equivalent; treated as csv",
            )
            fmt = "csv"
        location = param.get("in")
        if location in ("query", "formData"):
            if fmt not in _QUERY_STYLES:
                self.warn(pointer, f"unknown collectionFormat {fmt!r}; treated as csv")
                fmt = "csv"
            param["style"], param["explode"] = _QUERY_STYLES[fmt]
            return
        if fmt != "csv":
            self.warn(
                pointer,
                f"collectionFormat {fmt} is not possible in a {location} parameter "
                "in OpenAPI 3; treated as csv",
            )
        param["style"], param["explode"] = "simple", False

    # ---- responses

    def response_use(
        self, response: dict[str, Any], produces: list[str], pointer: str
    ) -> dict[str, Any]:
        if "$ref" not in response:
            return self.response(response, produces, pointer)
        target = self.deref(response)
        if isinstance(target, dict) and target is not response:
            self.response(target, produces, pointer + "/$ref")
        return response

    def response(
        self, response: dict[str, Any], produces: list[str], pointer: str
    ) -> dict[str, Any]:
        """Convert a 2.0 response in place (once): `schema` -> `content`."""
        if "$ref" in response or self.seen(response):
            return response
        if not isinstance(response.get("description"), str):
            self.warn(pointer, "the response has no description; an empty one is used")
            response["description"] = ""

        schema = response.pop("schema", None)
        examples = response.pop("examples", None)
        media_types = produces or [_JSON]
        content: dict[str, Any] = {}
        if isinstance(schema, dict):
            content = {media: {"schema": schema} for media in media_types}
        for media, example in _entries_any(examples):
            entry = content.setdefault(media, {})
            entry["example"] = example
        if content:
            response["content"] = content

        for name, header in _entries(response.get("headers")):
            where = join_pointer(pointer, "headers", name)
            if "schema" not in header and not self.seen(header):
                header.pop("collectionFormat", None)
                header["schema"] = self.value_schema(header, where)
        return response

    # ---- security

    def security_scheme(
        self, scheme: dict[str, Any], pointer: str
    ) -> dict[str, Any] | None:
        kind = scheme.get("type")
        extra = {k: v for k, v in scheme.items() if k == "description" or k[:2] == "x-"}
        if kind == "basic":
            return {"type": "http", "scheme": "basic", **extra}
        if kind == "apiKey":
            return {
                "type": "apiKey",
                "name": scheme.get("name"),
                "in": scheme.get("in"),
                **extra,
            }
        if kind == "oauth2":
            return self.oauth2(scheme, pointer, extra)
        self.warn(pointer, f"unknown security scheme type {kind!r}; dropped")
        return None

    def oauth2(
        self, scheme: dict[str, Any], pointer: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        flow = scheme.get("flow")
        if flow not in _OAUTH_FLOWS:
            self.warn(pointer, f"unknown oauth2 flow {flow!r}; no flow carried over")
            return {"type": "oauth2", "flows": {}, **extra}
        name, urls = _OAUTH_FLOWS[flow]
        converted: dict[str, Any] = {}
        for url in urls:
            if scheme.get(url):
                converted[url] = scheme[url]
            else:
                self.warn(pointer, f"the {flow} flow has no {url}")
        converted["scopes"] = scheme.get("scopes") or {}
        return {"type": "oauth2", "flows": {name: converted}, **extra}

    # ---- references

    def seen(self, node: dict[str, Any]) -> bool:
        """True if `node` was converted before; marks it converted otherwise."""
        if id(node) in self.converted:
            return True
        self.converted.add(id(node))
        return False

    def deref(self, node: Any) -> Any:
        """Follow local `$ref`s to the object they name (the node itself if it is
        not a reference, None if a reference cannot be followed)."""
        for _ in range(_MAX_HOPS):
            if not isinstance(node, dict) or "$ref" not in node:
                return node
            node = self.lookup(node["$ref"])
        return None

    def lookup(self, ref: Any) -> Any:
        """The node a local `$ref` names in the 2.0 copy, or None."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None
        fragment = unquote(ref[1:]) if "%" in ref else ref[1:]
        try:
            tokens = split_pointer(fragment)
        except ValueError:
            return None
        if tokens[:1] == ["components"] and len(tokens) > 2:
            section = _SECTION_OF.get(tokens[1])
            if section is None:
                return None
            if section == "parameters" and tokens[2] in self.body_params:
                return self.body_params[tokens[2]]
            tokens = [section, *tokens[2:]]
        node: Any = self.doc
        for token in tokens:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node


def _media_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _entries(value: Any) -> Iterable[tuple[str, dict[str, Any]]]:
    """The (name, object) pairs of a map of objects, skipping anything else."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, dict):
                yield str(name), item


def _entries_any(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        yield from ((str(k), v) for k, v in value.items())


def _set_or_drop(node: dict[str, Any], key: str, items: list[Any]) -> None:
    if items:
        node[key] = items
    else:
        node.pop(key, None)
