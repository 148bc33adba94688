"""Which credential serves which security scheme, and what each tool needs.

OpenAPI says what an operation needs as a list of alternatives; any one
alternative suffices and every scheme inside it is needed:

    security:
      - UserJwt: []              # either the user's token ...
      - ShopKey: []              # ... or the shop key
        Extra: []                # ... together with Extra

An operation's own `security` replaces the document's; `security: []` means
public and an empty alternative `{}` means "authentication optional".

Credentials are matched to the spec's schemes by name when the configuration
maps them explicitly, and otherwise by kind (see `assign_credentials`). A
scheme that nothing serves makes every alternative that names it unusable.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._credentials import ApiKey, BasicAuth, BearerToken, Credential, JwtForward
from ._errors import ConfigError, SpecError
from ._http import is_field_name
from ._refs import RefResolver, join_pointer

__all__ = [
    "Alternative",
    "Binding",
    "ToolSecurity",
    "assign_credentials",
    "configured_bindings",
    "credential_parameters",
    "parameter_key",
    "parse_requirements",
    "security_schemes",
    "tool_security",
]

logger = logging.getLogger(__name__)

Location = Literal["header", "query", "cookie"]


@dataclass(frozen=True, slots=True)
class Binding:
    """One credential bound to one scheme: what to send, and where.

    `value` is the exact header/query/cookie value; `None` means "the session
    user's identity token" (JWT forward), filled in per call.
    """

    scheme: str
    kind: Literal["api_key", "bearer", "jwt_forward", "basic"]
    location: Location
    name: str
    value: str | None

    @property
    def needs_user(self) -> bool:
        return self.value is None

    def describe(self) -> str:
        """Where the credential goes, without its value: `header X-API-Key`."""
        return f"{self.location} {self.name}"

    def __repr__(self) -> str:
        return f"Binding(scheme={self.scheme!r}, kind={self.kind!r}, {self.describe()})"


@dataclass(frozen=True, slots=True)
class Alternative:
    """One satisfiable security alternative: the bindings to attach."""

    bindings: tuple[Binding, ...]

    @property
    def needs_user(self) -> bool:
        return any(b.needs_user for b in self.bindings)


PUBLIC = Alternative(())


@dataclass(frozen=True, slots=True)
class ToolSecurity:
    """What one tool needs and what we send for it.

    `requirements` are the declared alternatives (scheme names); `anonymous`
    and `signed_in` are the alternatives used for each kind of session, or
    `None` when that kind of session cannot call the tool. `unserved` names the
    schemes no configured credential serves.
    """

    requirements: tuple[tuple[str, ...], ...]
    anonymous: Alternative | None
    signed_in: Alternative | None
    unserved: tuple[str, ...]

    def summary(self) -> str:
        """`public`, or the alternatives joined: `UserJwt | ShopKey+Extra`."""
        if not self.requirements or any(not r for r in self.requirements):
            if not self.requirements:
                return "public"
            named = [r for r in self.requirements if r]
            return "optional: " + " | ".join("+".join(r) for r in named)
        return " | ".join("+".join(r) for r in self.requirements)


def _scheme_kind(scheme: Mapping[str, Any]) -> str:
    kind = scheme.get("type")
    if kind == "http":
        return "http:" + str(scheme.get("scheme", "")).lower()
    return str(kind)


def _binding_for(
    name: str, scheme: Mapping[str, Any], credential: Credential
) -> Binding | None:
    """Bind `credential` to scheme `name`, or None when the kinds do not fit."""
    kind = _scheme_kind(scheme)

    if kind == "apiKey":
        where = scheme.get("in", "header")
        header = str(scheme.get("name", ""))
        if isinstance(credential, ApiKey):
            value = credential.key.get_secret_value()
            return Binding(name, "api_key", where, header, value)
        if isinstance(credential, BearerToken):
            # Some APIs put "Bearer <token>" in an apiKey-typed Authorization
            # header; mapping a bearer token there explicitly says so.
            value = "Bearer " + credential.token.get_secret_value()
            return Binding(name, "bearer", where, header, value)
        return None

    if kind in ("http:bearer", "oauth2", "openIdConnect"):
        if isinstance(credential, BearerToken):
            value = "Bearer " + credential.token.get_secret_value()
            return Binding(name, "bearer", "header", "Authorization", value)
        if isinstance(credential, JwtForward):
            return Binding(name, "jwt_forward", "header", "Authorization", None)
        if isinstance(credential, ApiKey):
            value = "Bearer " + credential.key.get_secret_value()
            return Binding(name, "bearer", "header", "Authorization", value)
        return None

    if kind == "http:basic" and isinstance(credential, BasicAuth):
        pair = f"{credential.username}:{credential.password.get_secret_value()}"
        value = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return Binding(name, "basic", "header", "Authorization", value)

    return None


def _auto_credential(
    name: str, scheme: Mapping[str, Any], auth: Sequence[Credential], api_keys: int
) -> Credential | None:
    """The configured credential that serves scheme `name` when no explicit
    mapping names it (the rule the README states)."""
    kind = _scheme_kind(scheme)

    if kind == "apiKey":
        keys = [c for c in auth if isinstance(c, ApiKey)]
        wanted = str(scheme.get("name", "")).lower()
        for key in keys:
            if scheme.get("in", "header") == "header" and key.header.lower() == wanted:
                return key
        # With a single apiKey scheme in the spec there is no doubt which one
        # the configured key is for, even if the header names differ.
        if keys and api_keys == 1:
            return keys[0]
        return None

    if kind == "http:bearer":
        tokens = [c for c in auth if isinstance(c, BearerToken)]
        forward = [c for c in auth if isinstance(c, JwtForward)]
        is_jwt = str(scheme.get("bearerFormat", "")).upper() == "JWT"
        if is_jwt and forward:
            return forward[0]
        if tokens:
            return tokens[0]
        return forward[0] if forward else None

    if kind == "http:basic":
        return next((c for c in auth if isinstance(c, BasicAuth)), None)

    return None


def assign_credentials(
    schemes: Mapping[str, Any],
    *,
    auth: Sequence[Credential],
    explicit: Mapping[str, Credential],
    source: str,
) -> dict[str, Binding]:
    """Bind configured credentials to the spec's security schemes by name.

    An explicit mapping wins; otherwise an `ApiKey` serves `apiKey` schemes
    (matching header name, or the only one), a `BearerToken` or `JwtForward`
    serves `http: bearer` schemes (a `bearerFormat: JWT` one goes to
    `JwtForward` when both are configured), and `BasicAuth` serves
    `http: basic`. Schemes left out are simply unserved.
    """
    unknown = sorted(set(explicit) - set(schemes))
    if unknown:
        known = ", ".join(sorted(schemes)) or "none"
        raise ConfigError(
            f"credentials name security scheme(s) {', '.join(unknown)} that "
            f"{source} does not declare (declared: {known}). Use the names under "
            "components.securitySchemes.",
            setting="credentials." + unknown[0],
        )

    api_keys = sum(1 for s in schemes.values() if _scheme_kind(s) == "apiKey")
    bindings: dict[str, Binding] = {}
    for name, scheme in schemes.items():
        if name in explicit:
            binding = _binding_for(name, scheme, explicit[name])
            if binding is None:
                raise ConfigError(
                    f"credentials.{name} is a {explicit[name].type} credential, "
                    f"which cannot serve the {_scheme_kind(scheme)} scheme {name!r} "
                    f"of {source}. Configure a credential of a matching kind.",
                    setting="credentials." + name,
                )
            bindings[name] = binding
            continue

        credential = _auto_credential(name, scheme, auth, api_keys)
        if credential is not None:
            binding = _binding_for(name, scheme, credential)
            if binding is not None:
                bindings[name] = binding
    return bindings


def configured_bindings(auth: Sequence[Credential]) -> tuple[Binding, ...]:
    """Bindings for a spec that declares no security at all: the configured
    credentials apply to every operation, as configured."""
    bindings = []
    for credential in auth:
        if isinstance(credential, ApiKey):
            value = credential.key.get_secret_value()
            header = credential.header
            bindings.append(Binding("(configured)", "api_key", "header", header, value))
            continue
        scheme = {"type": "http", "scheme": "bearer"}
        if isinstance(credential, BasicAuth):
            scheme = {"type": "http", "scheme": "basic"}
        binding = _binding_for("(configured)", scheme, credential)
        if binding is not None:
            bindings.append(binding)
    return tuple(bindings)


def parse_requirements(
    security: Any, *, source: str, pointer: str
) -> tuple[tuple[str, ...], ...]:
    """`[{A: [], B: []}, {}]` -> `(("A", "B"), ())`, checking the shape."""
    if not isinstance(security, list):
        raise SpecError(
            "security must be a list of requirement objects, e.g. "
            "[{ApiKeyAuth: []}]; use [] for a public operation.",
            source=source,
            pointer=pointer,
        )
    alternatives = []
    for index, requirement in enumerate(security):
        if not isinstance(requirement, Mapping):
            raise SpecError(
                "each security requirement must be an object mapping scheme "
                "names to scope lists.",
                source=source,
                pointer=f"{pointer}/{index}",
            )
        alternatives.append(tuple(str(name) for name in requirement))
    return tuple(alternatives)


def tool_security(
    requirements: tuple[tuple[str, ...], ...] | None,
    bindings: Mapping[str, Binding],
    fallback: tuple[Binding, ...],
) -> ToolSecurity:
    """Decide which alternative each kind of session uses.

    `requirements` is None when the spec declares no security at all; the
    configured credentials (`fallback`) then apply as one alternative. The
    first usable alternative in declared order wins, but one that sends a
    credential is preferred over the anonymous `{}`: optional auth is used
    when we have it.
    """
    if requirements is None:
        if not fallback:
            return ToolSecurity((), PUBLIC, PUBLIC, ())
        alternative = Alternative(fallback)
        names = (tuple(b.describe() for b in fallback),)
        anonymous = None if alternative.needs_user else alternative
        return ToolSecurity(names, anonymous, alternative, ())

    if not requirements:
        return ToolSecurity((), PUBLIC, PUBLIC, ())

    usable: list[Alternative] = []
    unserved: list[str] = []
    for names in requirements:
        missing = [n for n in names if n not in bindings]
        unserved.extend(n for n in missing if n not in unserved)
        if not missing:
            usable.append(Alternative(tuple(bindings[n] for n in names)))

    def first(allow_user: bool) -> Alternative | None:
        for alternative in usable:
            if alternative.bindings and (allow_user or not alternative.needs_user):
                return alternative
        return PUBLIC if any(not a.bindings for a in usable) else None

    return ToolSecurity(requirements, first(False), first(True), tuple(unserved))


def security_schemes(
    document: Mapping[str, Any],
    resolver: RefResolver,
    unusable: list[str] | None = None,
) -> dict[str, Mapping[str, Any]]:
    """`components.securitySchemes`, every `$ref` on the way followed.

    A scheme that cannot be read (a `$ref` loop, no `type`) is left out and
    its problem added to `unusable` when given, so that the operations not
    needing it still work; without the list it is a `SpecError`."""
    components, _ = resolver.deref(document.get("components") or {}, "/components")
    if not isinstance(components, Mapping):
        return {}
    raw, at = resolver.deref(
        components.get("securitySchemes") or {}, "/components/securitySchemes"
    )
    if not isinstance(raw, Mapping):
        raise SpecError(
            "components.securitySchemes must be an object.",
            source=resolver.source,
            pointer=at,
        )
    schemes = {}
    for name, entry in raw.items():
        try:
            scheme, pointer = resolver.deref(entry, join_pointer(at, str(name)))
            if not isinstance(scheme, Mapping) or "type" not in scheme:
                raise SpecError(
                    f"security scheme {name!r} must be an object with a `type`.",
                    source=resolver.source,
                    pointer=pointer,
                )
            if scheme.get("type") == "apiKey":
                _check_api_key_scheme(name, scheme, resolver.source, pointer)
        except SpecError as exc:
            if unusable is None:
                raise
            unusable.append(
                f"{str(exc).rstrip('.')}; security scheme {name!r} is left out, "
                "and operations that need it cannot be called"
            )
            continue
        schemes[str(name)] = scheme
    return schemes


def _check_api_key_scheme(
    name: Any, scheme: Mapping[str, Any], source: str, pointer: str
) -> None:
    """An apiKey scheme must say where the key goes and under what name, in
    a form HTTP can carry; else the key would go somewhere unintended."""
    where = scheme.get("in", "header")
    key_name = scheme.get("name")
    if where not in ("header", "query", "cookie"):
        problem = f"`in` is {where!r}, not header, query or cookie"
    elif not isinstance(key_name, str) or not key_name:
        problem = "it has no `name` for the key"
    elif where in ("header", "cookie") and not is_field_name(key_name):
        problem = f"its name {key_name!r} cannot be sent as a {where} name"
    elif where == "query" and any(ord(c) < 32 or ord(c) == 127 for c in key_name):
        problem = f"its name {key_name!r} holds control characters"
    else:
        return
    raise SpecError(
        f"apiKey security scheme {name!r} cannot be used: {problem}.",
        source=source,
        pointer=pointer,
    )


def credential_parameters(
    schemes: Mapping[str, Any],
) -> dict[tuple[str, str], str | None]:
    """(location, name as `parameter_key` compares it) of every apiKey
    scheme, to its scheme's name, so parameters that duplicate a credential
    are never exposed to (or filled by) the model."""
    found: dict[tuple[str, str], str | None] = {}
    for scheme_name, scheme in schemes.items():
        if isinstance(scheme, Mapping) and scheme.get("type") == "apiKey":
            where = str(scheme.get("in", "header"))
            found.setdefault(
                (where, parameter_key(where, scheme.get("name"))), scheme_name
            )
    return found


def parameter_key(where: str, name: Any) -> str:
    """A parameter's name as its location compares it: header names in any
    case are one, query and cookie names are case-sensitive."""
    return str(name).lower() if where == "header" else str(name)
