"""The credentials an integration can be configured with.

Each credential is a small frozen pydantic model whose secret is a `SecretStr`,
so printing, logging or serialising a configuration never shows the value:

* `ApiKey` - a key sent in a header (or, where the spec says so, a query
  parameter or cookie), e.g. `X-API-Key: <key>`.
* `BearerToken` - a fixed token sent as `Authorization: Bearer <token>`.
* `JwtForward` - no value of its own: the signed-in user's identity token is
  forwarded unchanged as `Authorization: Bearer <token>`.
* `BasicAuth` - HTTP basic, `Authorization: Basic base64(user:password)`.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ApiKey", "BasicAuth", "BearerToken", "Credential", "JwtForward"]


class _Credential(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this credential holds, for redaction."""
        return ()


class ApiKey(_Credential):
    """An API key. `header` is the header name used when the spec declares no
    `apiKey` scheme of its own; where it does, the spec's name and location
    (`in: header | query | cookie`) are used."""

    type: Literal["api_key"] = "api_key"
    key: SecretStr
    header: str = "X-API-Key"

    def secret_values(self) -> tuple[str, ...]:
        return (self.key.get_secret_value(),)


class BearerToken(_Credential):
    """A fixed token, sent as `Authorization: Bearer <token>`."""

    type: Literal["bearer"] = "bearer"
    token: SecretStr

    def secret_values(self) -> tuple[str, ...]:
        return (self.token.get_secret_value(),)


class JwtForward(_Credential):
    """Forward the signed-in user's identity token as a bearer token.

    Only sessions identified by a verified token can use it, so tools that need
    it are hidden from anonymous sessions."""

    type: Literal["jwt_forward"] = "jwt_forward"


class BasicAuth(_Credential):
    """HTTP basic authentication."""

    type: Literal["basic"] = "basic"
    username: str
    password: SecretStr

    def secret_values(self) -> tuple[str, ...]:
        password = self.password.get_secret_value()
        # What an API echoing the Authorization header would show.
        pair = base64.b64encode(f"{self.username}:{password}".encode()).decode()
        return (password, pair)


Credential = Annotated[
    ApiKey | BearerToken | JwtForward | BasicAuth, Field(discriminator="type")
]
