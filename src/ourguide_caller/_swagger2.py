"""Conversion of a Swagger 2.0 document into an equivalent OpenAPI 3.0.3 one.

The loader calls `convert_swagger2` after bundling, so the input is one document
whose other files sit under `x-ourguide-bundled`. The conversion works on a copy
(the input is never modified) and returns the new document with a list of
warnings, each naming the JSON pointer of what it could not carry over exactly.

What changes, in short: `host`/`basePath`/`schemes` become `servers`;
`definitions`/`parameters`/`responses`/`securityDefinitions` move under
`components` (and every `$ref` to them follows); `body` and `formData` parameters
become a `requestBody`; other parameters get a `schema` and a `style`; response
`schema`s get a `content` per `produces` media type. A `$ref` into a part that
moved (a body parameter's schema, a response's schema) is pointed at the new
place once the conversion is done.

Problems of the document as a whole raise `SpecError`. A problem confined to one
operation is left in place for the tool builder, which skips that operation and
reports the pointer the user wrote.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from ._errors import SpecError
from ._refs import array_index, join_pointer, split_pointer
from ._servers import shown_url

__all__ = ["convert_swagger2"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

# Swagger 2.0 sections whose entries move under `components`, by pointer token.
_MOVED = {
    "definitions": "schemas",
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

# Where a parameter may be: 2.0's five and OpenAPI 3's cookie, which the tool
# builder accepts. Anything else makes the tool builder refuse the operation.
_LOCATIONS = ("query", "header", "path", "formData", "body", "cookie")
_BODIES = ("body", "formData")

_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

# The schemes a call can be made with; 2.0 also allows ws/wss.
_CALLABLE_SCHEMES = ("https", "http")
_SCHEME_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Characters that cannot be in a host[:port]: they start a path, query,
# fragment or user name.
_NOT_IN_HOST = re.compile(r"[/?#@\s\\]")

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

# Marks a `$ref` that can only be settled once the conversion is done, and a
# pointer that names nothing.
_LATER = "<later>"
_MISSING: Any = object()


def convert_swagger2(
    doc: Mapping[str, Any], *, source: str
) -> tuple[dict[str, Any], list[str]]:
    """Convert the Swagger 2.0 `doc` into OpenAPI 3.0.3; return it and warnings.

    `source` names the document in the warnings ("<source>#<pointer>: ...").
    Raises `SpecError` when the document as a whole cannot be converted.
    """
    copy = _Copy(doc)
    converter = _Converter(copy, source=source)
    return converter.run(), converter.warnings


# ---------------------------------------------------------------- the copy


class _Copy:
    """A copy of every container of the 2.0 document, fixed up for 3.0.

    Shared nodes stay shared (memoised by `id()`), so YAML anchors cost nothing.
    Each copied mapping gets `_fix_schema_fields`; a `$ref` to an entry of a
    moved section is rewritten at once (one dict look-up per `$ref`, as there
    are tens of thousands in big specs); any other local `$ref` is kept in
    `later`, to be settled once it is known where the conversion put things.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.original = doc
        self.twins: dict[int, Any] = {}  # id(original node) -> its copy
        self.rewritten: dict[str, str] = {}  # $ref as written -> as copied
        self.written: dict[str, str] = {}  # the reverse, for look-ups
        self.later: list[dict[str, Any]] = []
        self.root: dict[str, Any] = self._copy_all(doc)

    def _copy_all(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        memo = self.twins
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
                ref = twin.get("$ref")
                if isinstance(ref, str):
                    self._move_ref(twin, ref)
                _fix_schema_fields(twin)
            else:
                twin.extend(copied(value) for value in original)
        return root

    def _move_ref(self, node: dict[str, Any], ref: str) -> None:
        new = self.rewritten.get(ref)
        if new is None:
            new = self.rewritten[ref] = self._moved(ref)
        if new is _LATER:
            self.later.append(node)
        elif new is not ref:
            node["$ref"] = new

    def _moved(self, ref: str) -> str:
        """`ref` as it reads after the move, or `_LATER`.

        A `$ref` to something that does not exist is left as written, so the
        error about it names the pointer the user wrote.
        """
        tokens = _ref_tokens(ref)
        if not tokens or not ref.startswith("#/"):
            return ref  # not local, or the root: nothing moves
        section = _MOVED.get(tokens[0])
        whole_entry = len(tokens) == 2 or (section == "schemas" and len(tokens) > 2)
        if section is None or not whole_entry:
            return _LATER
        prefix = f"#/{tokens[0]}/"
        if not ref.startswith(prefix) or _walk(self.original, tokens) is _MISSING:
            return ref
        new = f"#/components/{section}/{ref[len(prefix) :]}"
        self.written[new] = ref
        return new

    def lookup(self, ref: Any) -> Any:
        """The copy of the node a local `$ref` (as copied) names, or None."""
        if not isinstance(ref, str):
            return None
        tokens = _ref_tokens(self.written.get(ref, ref))
        if tokens is None:
            return None
        node = _walk(self.original, tokens)
        if node is _MISSING:
            return None
        return self.twins.get(id(node), node)


def _fix_schema_fields(node: dict[str, Any]) -> None:
    """The 2.0 spellings that 3.0 changed, wherever they appear."""
    # Only a boolean: a `properties` map may well hold a property of that name.
    if isinstance(node.get("x-nullable"), bool):
        node["nullable"] = node.pop("x-nullable")
    if isinstance(node.get("discriminator"), str):
        node["discriminator"] = {"propertyName": node["discriminator"]}
    # A parameter (it has `in`) keeps `type: file`: it decides multipart below.
    if node.get("type") == "file" and "in" not in node:
        node["type"] = "string"
        node["format"] = "binary"


# ---------------------------------------------------------------- the conversion


class _Converter:
    """One conversion: the 2.0 copy being rewritten in place, and its findings."""

    def __init__(self, copy: _Copy, *, source: str) -> None:
        self.copy = copy
        self.doc = copy.root
        self.source = source
        self.warnings: list[str] = []
        # Named body/formData parameters: OpenAPI 3 has no such parameters, so each
        # use is inlined into the operation's requestBody.
        self.body_params: dict[str, dict[str, Any]] = {}
        self.converted: set[int] = set()
        # `$ref` parameter entries taken into a requestBody: no longer in the
        # output, so nothing to settle for them.
        self.consumed: set[int] = set()
        self.looked_up: dict[str, Any] = {}
        self.server_scheme: str | None = None
        self.server_url: str | None = None
        self.consumes: list[str] = []
        self.produces: list[str] = []

    def warn(self, pointer: str, message: str) -> None:
        self.warnings.append(f"{self.source}#{pointer}: {message}")

    def fail(self, pointer: str, message: str) -> SpecError:
        return SpecError(message, source=self.source, pointer=pointer)

    # ---- the document

    def run(self) -> dict[str, Any]:
        doc = self.doc
        self.consumes = self.media_list(doc.get("consumes"), "/consumes", None)
        self.produces = self.media_list(doc.get("produces"), "/produces", None)
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
        paths = out.get("paths")
        if isinstance(paths, dict):
            self.paths(paths)
        elif paths is not None:
            raise self.fail(
                "/paths",
                f"`paths` must be an object mapping each path to its operations, "
                f"not {_kind(paths)}. Fix the document.",
            )
        if components:
            out["components"] = components
        self.settle_refs(out)
        return out

    # ---- servers

    def servers(self) -> list[dict[str, Any]]:
        host, host_scheme = self.host()
        base_path = self.base_path()
        # Read even without a host, so a wrong type is reported all the same.
        schemes = self.schemes(self.doc.get("schemes"), "/schemes", document=True)
        if host is None:
            if base_path is not None:
                url = base_path or "/"
                self.warn(
                    "/host",
                    f"no host, so the server URL is the relative {url!r}; it is "
                    "resolved against the spec's URL, or set the base URL in the "
                    "configuration",
                )
                return [{"url": url}]
            self.warn(
                "/host",
                "no host or basePath, so the document names no server; set the "
                "API's base URL in the configuration",
            )
            return []

        if schemes:
            scheme = "https" if "https" in schemes else schemes[0]
        elif host_scheme is not None:
            scheme = host_scheme
        else:
            self.warn("/schemes", "no http or https scheme listed; assumed https")
            scheme = "https"
        self.server_scheme = scheme
        self.server_url = f"{scheme}://{host}{base_path or ''}"
        return [{"url": self.server_url}]

    def host(self) -> tuple[str | None, str | None]:
        """The host[:port], and the scheme the host was (wrongly) written with."""
        host = self.doc.get("host")
        if host is None or host == "":
            return None, None
        if not isinstance(host, str):
            raise self.fail(
                "/host",
                f"`host` must be a string naming the API's host and optional port, "
                f"such as api.example.com, not {_kind(host)}. Fix the document.",
            )
        scheme = None
        bare = host
        match = _SCHEME_PREFIX.match(host)
        if match:
            scheme = match.group(1).lower()
            bare = host[match.end() :]
        bare = bare.rstrip("/")
        if not bare or _NOT_IN_HOST.search(bare):
            raise self.fail(
                "/host",
                f"`host` {shown_url(host)!r} is not a host name with an optional "
                "port; a path belongs in `basePath`, a scheme in `schemes`. Fix the "
                "document.",
            )
        if bare != host:
            used = scheme if scheme in _CALLABLE_SCHEMES else None
            if used:
                how = f", with the scheme {used} unless `schemes` says otherwise"
            elif scheme:
                how = f"; the scheme {scheme} cannot be called and is ignored"
            else:
                how = ""
            self.warn(
                "/host",
                "a Swagger 2.0 host is only a host name and port; "
                f"{shown_url(host)!r} is read as {shown_url(bare)!r}{how}",
            )
            scheme = used
        return bare, scheme

    def base_path(self) -> str | None:
        """The basePath with a leading and no trailing slash ("" for the root),
        None when there is none."""
        value = self.doc.get("basePath")
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(
                "/basePath",
                f"`basePath` must be a string, the path every operation's path is "
                f"relative to (such as /v1), not {_kind(value)}. Fix the document.",
            )
        if "?" in value or "#" in value:
            raise self.fail(
                "/basePath",
                f"`basePath` {value!r} must be a path, without a query or fragment. "
                "Fix the document.",
            )
        if not value.startswith("/"):
            self.warn("/basePath", f"basePath {value!r} is read as '/{value}'")
            value = "/" + value
        return value.rstrip("/")

    def schemes(self, value: Any, pointer: str, *, document: bool) -> list[str]:
        """The usable (http, https) schemes of a `schemes` list, lower-cased."""
        if value is None:
            return []
        if isinstance(value, str):
            self.warn(pointer, f"`schemes` is a string; read as [{value!r}]")
            value = [value]
        elif not isinstance(value, list):
            message = f'`schemes` must be a list such as ["https"], not {_kind(value)}'
            if document:
                raise self.fail(pointer, message + ". Fix the document.")
            self.warn(pointer, message + "; ignored, the document's schemes apply")
            return []
        usable = []
        for index, scheme in enumerate(value):
            name = scheme.lower() if isinstance(scheme, str) else None
            if name in _CALLABLE_SCHEMES:
                usable.append(name)
            else:
                self.warn(
                    join_pointer(pointer, index),
                    f"scheme {scheme!r} ignored: only http and https can be called",
                )
        return usable

    # ---- components

    def components(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        definitions = self.section("definitions", "each name to a schema")
        if definitions:
            components["schemas"] = definitions

        parameters = {}
        named = self.section("parameters", "each name to a parameter")
        for name, param in self.entries(named, "/parameters", "parameter"):
            pointer = join_pointer("/parameters", name)
            self.check_named_parameter(param, pointer)
            if param.get("in") in _BODIES:
                self.body_params[name] = param
            else:
                parameters[name] = self.parameter(param, pointer)
        if parameters:
            components["parameters"] = parameters

        responses = {}
        named = self.section("responses", "each name to a response")
        for name, response in self.entries(named, "/responses", "response"):
            pointer = join_pointer("/responses", name)
            responses[name] = self.response(response, self.produces, pointer)
        if responses:
            components["responses"] = responses

        schemes = {}
        named = self.section(
            "securityDefinitions",
            "each name to a security scheme",
            "; ignoring them would send the configured credentials to every operation",
        )
        for name, scheme in self.entries(
            named, "/securityDefinitions", "security scheme"
        ):
            pointer = join_pointer("/securityDefinitions", name)
            converted = self.security_scheme(scheme, pointer)
            if converted is not None:
                schemes[name] = converted
        if schemes:
            components["securitySchemes"] = schemes
        return components

    def section(self, name: str, mapping: str, why: str = "") -> dict[str, Any]:
        """A root section that must be a map (empty when absent)."""
        value = self.doc.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(
                "/" + name,
                f"`{name}` must be an object mapping {mapping}, not {_kind(value)}"
                f"{why}. Fix the document.",
            )
        return value

    def entries(
        self, section: dict[str, Any], pointer: str, what: str
    ) -> Iterable[tuple[str, dict[str, Any]]]:
        """The (name, object) pairs of a root section; anything else is an error."""
        for name, item in section.items():
            if not isinstance(item, dict):
                raise self.fail(
                    join_pointer(pointer, str(name)),
                    f"a {what} must be an object, not {_kind(item)}. Fix the document.",
                )
            yield str(name), item

    def check_named_parameter(self, param: dict[str, Any], pointer: str) -> None:
        """A named parameter is part of the document: check what the conversion
        and the tool builder rely on (operations only refer to it)."""
        location = param.get("in")
        if location not in _LOCATIONS:
            raise self.fail(
                join_pointer(pointer, "in"),
                f"`in` must be one of query, header, path, formData or body, not "
                f"{location!r}. Fix the parameter.",
            )
        if location != "body" and not isinstance(param.get("name"), str):
            raise self.fail(
                join_pointer(pointer, "name"),
                f"a {location} parameter needs a string `name`, not "
                f"{_kind(param.get('name'))}. Fix the parameter.",
            )

    def media_list(
        self, value: Any, pointer: str, fallback: list[str] | None
    ) -> list[str]:
        """A `consumes`/`produces` list; `fallback` is the document's, None at the
        root (where a wrong type is a document error)."""
        if value is None:
            return fallback or []
        if isinstance(value, str):
            self.warn(
                pointer, f"a string where a list is expected; read as [{value!r}]"
            )
            return [value]
        if not isinstance(value, list):
            message = f"must be a list of media types, not {_kind(value)}"
            if fallback is None:
                field = pointer.rsplit("/", 1)[-1]
                raise self.fail(pointer, f"`{field}` {message}. Fix the document.")
            self.warn(pointer, message + "; ignored, the document's list applies")
            return fallback
        media = [v for v in value if isinstance(v, str)]
        if len(media) < len(value):
            self.warn(pointer, "entries that are not strings are ignored")
        return media or (fallback or [])

    # ---- paths and operations

    def paths(self, paths: dict[str, Any]) -> None:
        for path, item in paths.items():
            if isinstance(item, dict) and not str(path).startswith("x-"):
                pointer = join_pointer("/paths", str(path))
                self.path_item(item, pointer, pointer)

    def path_item(self, item: dict[str, Any], pointer: str, real: str | None) -> None:
        """`pointer` names the item for warnings; `real` is where it is in the
        document (None if unknown)."""
        if "$ref" in item:
            # A path item kept elsewhere (another file): convert it where it lives.
            target = self.lookup(item["$ref"])
            if isinstance(target, dict) and not self.seen(target):
                self.path_item(
                    target, pointer + "/$ref", self.real_pointer(item["$ref"])
                )
            if len(item) == 1:
                return
            # Fields beside the `$ref` are laid over its target later: they
            # are converted as a path item's own.

        shared_bodies = self.split_parameters(item, pointer, real)

        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            where = join_pointer(pointer, method)
            at = None if real is None else join_pointer(real, method)
            if "$ref" in operation:
                # An operation kept elsewhere (DigitalOcean-style): converted
                # where it lives, once.
                target = self.lookup(operation["$ref"])
                if isinstance(target, dict) and not self.seen(target):
                    real_target = self.real_pointer(operation["$ref"])
                    self.operation(target, where + "/$ref", real_target, shared_bodies)
                if len(operation) == 1:
                    continue
            self.operation(operation, where, at, shared_bodies)

    def operation(
        self,
        op: dict[str, Any],
        pointer: str,
        real: str | None,
        shared_bodies: list[tuple[dict[str, Any], str]],
    ) -> None:
        consumes = self.media_list(
            op.pop("consumes", None), pointer + "/consumes", self.consumes
        )
        produces = self.media_list(
            op.pop("produces", None), pointer + "/produces", self.produces
        )
        self.operation_schemes(op, op.pop("schemes", None), pointer + "/schemes")

        bodies = self.split_parameters(op, pointer, real)

        # Path-level body/formData parameters apply unless the operation
        # redefines one of the same name and location.
        own = {_body_key(p) for p, _ in bodies}
        bodies += [(p, w) for p, w in shared_bodies if _body_key(p) not in own]
        request = self.request_body(bodies, consumes)
        if request is not None:
            op["requestBody"] = request

        responses = op.get("responses")
        if isinstance(responses, dict):
            for code, response in list(responses.items()):
                if isinstance(response, dict) and not str(code).startswith("x-"):
                    where = join_pointer(pointer, "responses", str(code))
                    responses[code] = self.response_use(response, produces, where)
        else:
            self.warn(pointer, "the operation lists no responses")

    def split_parameters(
        self, holder: dict[str, Any], pointer: str, real: str | None
    ) -> list[tuple[dict[str, Any], str]]:
        """Convert `holder`'s parameters in place, taking out the body and
        formData ones (returned with their pointers): OpenAPI 3 has none."""
        raw = holder.get("parameters")
        if raw is None:
            holder.pop("parameters", None)
            return []
        if not isinstance(raw, list):
            return []  # the tool builder reports "`parameters` must be a list"
        bodies = []
        kept = []
        for index, param in enumerate(raw):
            where = join_pointer(pointer, "parameters", index)
            actual = self.deref(param)
            # None is also what a `$ref` we cannot follow gives: that one is left
            # to the tool builder, which may know better (and names it).
            if (actual is not None or param is None) and _unusable(actual):
                if real is not None:
                    holder["parameters"] = _pinned(raw, index, real)
                    return []
                kept.append(param)
            elif isinstance(actual, dict) and actual.get("in") in _BODIES:
                if actual is not param:
                    self.consumed.add(id(param))
                bodies.append((actual, where))
            else:
                kept.append(self.parameter_use(param, where))
        _set_or_drop(holder, "parameters", kept)
        return bodies

    def operation_schemes(self, op: dict[str, Any], value: Any, pointer: str) -> None:
        """An operation restricted to schemes without the server's one gets its
        own server (OpenAPI 3 has no per-operation schemes)."""
        schemes = self.schemes(value, pointer, document=False)
        if not schemes or self.server_url is None or self.server_scheme in schemes:
            return
        scheme = "https" if "https" in schemes else schemes[0]
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
        if schema is None:
            self.warn(
                pointer, "the body parameter has no schema; any value is accepted"
            )
            schema = {}
        # A schema of the wrong type stays: the tool builder reports it.
        request: dict[str, Any] = {}
        if param.get("description"):
            request["description"] = param["description"]
        request["content"] = {
            media: {"schema": schema} for media in consumes or [_JSON]
        }
        request["required"] = bool(param.get("required", False))
        name = param.get("name")
        if isinstance(name, str):
            # Tool generators use it to name the body argument, as 2.0 did.
            request["x-codegen-request-body-name"] = name
        elif name is not None:
            self.warn(
                pointer,
                f"the body parameter's name is {_kind(name)}, not a string; the "
                "body argument gets the usual name instead",
            )
        return request

    def form_request(
        self, form: list[tuple[dict[str, Any], str]], consumes: list[str]
    ) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        encoding: dict[str, Any] = {}
        has_file = False
        for param, pointer in form:
            name = param["name"]  # a string: `_unusable` saw to that
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
        fmt = "csv" if collection is None else collection  # the 2.0 default
        if not isinstance(fmt, str):
            self.warn(
                pointer, f"collectionFormat is {_kind(fmt)}, not a name; treated as csv"
            )
            fmt = "csv"
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

        schema = self.response_field(response, "schema", pointer)
        examples = self.response_field(response, "examples", pointer)
        media_types = produces or [_JSON]
        content: dict[str, Any] = {}
        if schema is not None:
            content = {media: {"schema": schema} for media in media_types}
        for media, example in (examples or {}).items():
            entry = content.setdefault(str(media), {})
            entry["example"] = example
        if content:
            response["content"] = content

        headers = self.response_field(response, "headers", pointer, keep=True)
        for name, header in list((headers or {}).items()):
            where = join_pointer(pointer, "headers", str(name))
            if not isinstance(header, dict):
                self.warn(
                    where, f"a header must be an object, not {_kind(header)}; ignored"
                )
                del headers[name]
            elif "schema" not in header and not self.seen(header):
                header.pop("collectionFormat", None)
                header["schema"] = self.value_schema(header, where)
        return response

    def response_field(
        self, response: dict[str, Any], field: str, pointer: str, keep: bool = False
    ) -> dict[str, Any] | None:
        """An object-valued field of a response (taken out unless `keep`); one of
        another type is ignored with a warning: responses only describe output."""
        value = response.get(field) if keep else response.pop(field, None)
        if value is None or isinstance(value, dict):
            return value
        self.warn(
            join_pointer(pointer, field),
            f"`{field}` must be an object, not {_kind(value)}; ignored",
        )
        response.pop(field, None)
        return None

    # ---- security

    def security_scheme(
        self, scheme: dict[str, Any], pointer: str
    ) -> dict[str, Any] | None:
        kind = scheme.get("type")
        extra = {
            k: v
            for k, v in scheme.items()
            if k == "description" or str(k).startswith("x-")
        }
        if kind == "basic":
            return {"type": "http", "scheme": "basic", **extra}
        if kind == "apiKey":
            return self.api_key(scheme, pointer, extra)
        if kind == "oauth2":
            return self.oauth2(scheme, pointer, extra)
        if not isinstance(kind, str):
            raise self.fail(
                join_pointer(pointer, "type"),
                f"a security scheme's `type` must be basic, apiKey or oauth2, not "
                f"{_kind(kind)}. Fix the document.",
            )
        self.warn(pointer, f"unknown security scheme type {kind!r}; dropped")
        return None

    def api_key(
        self, scheme: dict[str, Any], pointer: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        # The credential is sent under this name: a wrong one would leak it or
        # send it where the API does not look.
        name, where = scheme.get("name"), scheme.get("in")
        if not isinstance(name, str) or not name:
            raise self.fail(
                join_pointer(pointer, "name"),
                f"an apiKey scheme needs the header or query parameter name of "
                f"the key, not {_kind(name)}. Fix the document.",
            )
        if where not in ("header", "query"):
            raise self.fail(
                join_pointer(pointer, "in"),
                f"an apiKey scheme's `in` must be header or query, not {where!r}. "
                "Fix the document.",
            )
        return {"type": "apiKey", "name": name, "in": where, **extra}

    def oauth2(
        self, scheme: dict[str, Any], pointer: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        flow = scheme.get("flow")
        if not isinstance(flow, str) or flow not in _OAUTH_FLOWS:
            self.warn(pointer, f"unknown oauth2 flow {flow!r}; no flow carried over")
            return {"type": "oauth2", "flows": {}, **extra}
        name, urls = _OAUTH_FLOWS[flow]
        converted: dict[str, Any] = {}
        for url in urls:
            if isinstance(scheme.get(url), str) and scheme[url]:
                converted[url] = scheme[url]
            else:
                self.warn(pointer, f"the {flow} flow has no {url}")
        scopes = scheme.get("scopes")
        if scopes is not None and not isinstance(scopes, dict):
            self.warn(
                join_pointer(pointer, "scopes"),
                f"`scopes` must be an object, not {_kind(scopes)}; no scopes carried "
                "over",
            )
            scopes = None
        converted["scopes"] = scopes or {}
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
        """The node a local `$ref` names in the 2.0 copy, or None.

        It is looked up in the untouched input, then mapped to its copy, so what
        the conversion already moved does not matter.
        """
        if not isinstance(ref, str):
            return None
        found = self.looked_up.get(ref, _MISSING)
        if found is _MISSING:
            found = self.looked_up[ref] = self.copy.lookup(ref)
        return found

    def real_pointer(self, ref: Any) -> str | None:
        """The JSON pointer a local `$ref` (as copied) names, as the user wrote it."""
        if not isinstance(ref, str):
            return None
        tokens = _ref_tokens(self.copy.written.get(ref, ref))
        return None if tokens is None else join_pointer("", *tokens)

    def settle_refs(self, out: dict[str, Any]) -> None:
        """Point each `$ref` whose target the conversion moved at its new place.

        For example `#/responses/Y/schema` becomes
        `#/components/responses/Y/content/application~1json/schema`. A target
        with no new place is reported; the `$ref` then names what the user wrote.
        """
        nodes = [n for n in self.copy.later if id(n) not in self.consumed]
        wanted: dict[str, Any] = {}  # ref -> the copy of its target
        checked: set[str] = set()
        for node in nodes:
            ref = node.get("$ref")  # the conversion may have taken it away
            if not isinstance(ref, str) or ref in checked:
                continue
            checked.add(ref)
            tokens = _ref_tokens(ref) or []
            target = _walk(self.copy.original, tokens)
            if not isinstance(target, (Mapping, list)):
                continue  # missing: the tool builder reports the pointer as written
            twin = self.copy.twins.get(id(target), target)
            if _walk(out, tokens) is not twin:
                wanted[ref] = twin
        if not wanted:
            return
        places = _locate(out, {id(twin) for twin in wanted.values()})
        new_refs = {}
        for ref, twin in wanted.items():
            place = places.get(id(twin))
            if place is None:
                self.warn(
                    ref[1:],
                    f"$ref {ref!r} names a part of the Swagger 2.0 document that "
                    "has no place in OpenAPI 3; what uses it cannot be converted. "
                    "Point the $ref at a schema under `definitions` instead",
                )
            else:
                new_refs[ref] = "#" + place.replace("%", "%25")
        for node in nodes:
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in new_refs:
                node["$ref"] = new_refs[ref]


# ---------------------------------------------------------------- helpers


def _ref_tokens(ref: Any) -> list[str] | None:
    """The pointer tokens of a local `$ref`, None if it is not one."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    fragment = unquote(ref[1:]) if "%" in ref else ref[1:]
    try:
        return split_pointer(fragment)
    except ValueError:
        return None


def _walk(root: Any, tokens: list[str], depth: int = 0) -> Any:
    """The node at `tokens` under `root`, or `_MISSING`. Like RefResolver, a
    pointer running through a `$ref` follows it."""
    node = root
    for token in tokens:
        if (
            isinstance(node, Mapping)
            and token not in node
            and "$ref" in node
            and depth < _MAX_HOPS
        ):
            inner = _ref_tokens(node["$ref"])
            node = _MISSING if inner is None else _walk(root, inner, depth + 1)
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif (
            isinstance(node, list)
            and (index := array_index(token, len(node))) is not None
        ):
            node = node[index]
        else:
            return _MISSING
    return node


def _locate(root: dict[str, Any], wanted: set[int]) -> dict[int, str]:
    """The pointer of each node of `root` whose id is in `wanted` (the shallowest
    place, when a node is in several). Walks only as far as needed."""
    found: dict[int, str] = {}
    visited: set[int] = set()
    queue: deque[tuple[Any, str]] = deque([(root, "")])
    while queue and len(found) < len(wanted):
        node, pointer = queue.popleft()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if id(node) in wanted:
            found[id(node)] = pointer
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in children:
            if isinstance(value, (dict, list)):
                queue.append((value, join_pointer(pointer, str(key))))
    return found


def _unusable(param: Any) -> bool:
    """True if the tool builder will refuse this parameter (a body parameter
    needs no name: it is not sent under one)."""
    if not isinstance(param, dict):
        return True
    location = param.get("in")
    if location == "body":
        return False
    return location not in _LOCATIONS or not isinstance(param.get("name"), str)


def _pinned(raw: list[Any], index: int, real: str) -> list[Any]:
    """A parameter list on which the tool builder stops at `raw[index]`, kept at
    its index, so the problem is reported at the pointer the user wrote (taking
    out body parameters before it would shift it). The earlier entries refer to
    it; the operation is skipped anyway."""
    ref = "#" + join_pointer(real, "parameters", index).replace("%", "%25")
    return [{"$ref": ref} for _ in range(index)] + [raw[index]]


def _body_key(param: dict[str, Any]) -> tuple[str | None, Any]:
    name = param.get("name")
    return (name if isinstance(name, str) else None, param.get("in"))


def _kind(value: Any) -> str:
    """How a value of the wrong type is named in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _set_or_drop(node: dict[str, Any], key: str, items: list[Any]) -> None:
    if items:
        node[key] = items
    else:
        node.pop(key, None)
