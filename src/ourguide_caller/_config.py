"""Integration settings from a file or a dict, as a dashboard would store them.

    name: shop
    spec: specs/shop.yaml           # relative to the config file
    base_url: https://shop.example/api
    auth:
      - {type: api_key, header: X-API-Key, key_env: SHOP_API_KEY}
      - {type: bearer, token_env: SHOP_SERVICE_TOKEN}
      - {type: jwt_forward}
    verification_secret_env: SHOP_JWT_SECRET
    credentials:                    # by the spec's security scheme names
      PartnerKey: {type: api_key, key_env: PARTNER_KEY}
    server_variables: {region: eu}

Secrets are best given as `*_env` (the name of an environment variable) so
the file itself holds none; a literal `key`/`token`/`password` also works.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._credentials import ApiKey, BasicAuth, BearerToken, Credential, JwtForward
from ._errors import ConfigError
from ._integration import Integration
from ._loader import parse_text

__all__ = ["IntegrationConfig", "load_config"]


def _secret(value: str | None, env: str | None, *, setting: str) -> str:
    if value is not None:
        return value
    if env is None:
        raise ConfigError(
            f"{setting}: give the secret, or `{setting}_env` naming "
            "an environment variable that holds it.",
            setting=setting,
        )
    found = os.environ.get(env)
    if not found:
        raise ConfigError(
            f"{setting}_env names the environment variable {env!r}, which is not "
            "set (or empty). Export it before starting.",
            setting=setting + "_env",
        )
    return found


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiKeyEntry(_Entry):
    type: Literal["api_key"]
    header: str = "X-API-Key"
    key: str | None = None
    key_env: str | None = None

    def credential(self, where: str) -> Credential:
        return ApiKey(
            key=_secret(self.key, self.key_env, setting=f"{where}.key"),
            header=self.header,
        )


class BearerEntry(_Entry):
    type: Literal["bearer"]
    token: str | None = None
    token_env: str | None = None

    def credential(self, where: str) -> Credential:
        token = _secret(self.token, self.token_env, setting=f"{where}.token")
        return BearerToken(token=token)


class JwtForwardEntry(_Entry):
    type: Literal["jwt_forward"]

    def credential(self, where: str) -> Credential:
        return JwtForward()


class BasicEntry(_Entry):
    type: Literal["basic"]
    username: str
    password: str | None = None
    password_env: str | None = None

    def credential(self, where: str) -> Credential:
        password = _secret(
            self.password, self.password_env, setting=f"{where}.password"
        )
        return BasicAuth(username=self.username, password=password)


Entry = Annotated[
    ApiKeyEntry | BearerEntry | JwtForwardEntry | BasicEntry,
    Field(discriminator="type"),
]


class IntegrationConfig(BaseModel):
    """The settings of one integration (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    spec: str
    base_url: str | None = None
    spec_location: str | None = None
    auth: list[Entry] = Field(default_factory=list)
    credentials: dict[str, Entry] = Field(default_factory=dict)
    verification_secret: str | None = None
    verification_secret_env: str | None = None
    server_variables: dict[str, str] = Field(default_factory=dict)
    doubled_prefix: Literal["collapse", "keep", "error"] = "collapse"
    timeout: float = 30.0
    max_result_chars: int = 20_000
    max_response_bytes: int = 5_000_000

    def build(self, *, relative_to: Path | None = None) -> Integration:
        """Read the secrets from the environment and build the integration."""
        spec: str = self.spec
        if (
            relative_to is not None
            and "://" not in spec
            and not Path(spec).is_absolute()
        ):
            spec = str(relative_to / spec)
        secret = self.verification_secret
        if secret is None and self.verification_secret_env:
            secret = _secret(
                None, self.verification_secret_env, setting="verification_secret"
            )
        return Integration(
            spec,
            name=self.name,
            base_url=self.base_url,
            spec_location=self.spec_location,
            auth=[e.credential(f"auth[{i}]") for i, e in enumerate(self.auth)],
            credentials={
                k: e.credential(f"credentials.{k}") for k, e in self.credentials.items()
            },
            verification_secret=secret,
            server_variables=self.server_variables,
            doubled_prefix=self.doubled_prefix,
            timeout=self.timeout,
            max_result_chars=self.max_result_chars,
            max_response_bytes=self.max_response_bytes,
        )


def load_config(source: str | os.PathLike[str] | Mapping[str, Any]) -> Integration:
    """An integration from a YAML/JSON config file or an equivalent dict."""
    relative_to = None
    where = "<dict>"
    if isinstance(source, Mapping):
        data: Any = source
    elif not isinstance(source, str | os.PathLike):
        raise ConfigError(
            f"load_config takes a file path or a mapping, not {type(source).__name__}."
        )
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            # ValueError: a NUL in the path.
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"cannot read config file {where!r}: {reason}.") from None
        data = parse_text(text, source=where)
        relative_to = path.resolve().parent
    try:
        config = IntegrationConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"{where}: invalid integration config: {problems}.") from None
    return config.build(relative_to=relative_to)
