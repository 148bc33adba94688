"""Sessions: who the agent is acting for.

A session is anonymous, or identified by an identity token: a JWT that the
customer's backend signs (HS256) with the verification secret it shares with
the integration. Only a verified token identifies a session, and only an
identified session can use tools that forward the user's token.
"""

from __future__ import annotations

import time
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from ._errors import IdentityTokenError

__all__ = ["IdentityVerifier", "Session"]

# Clock difference tolerated between the customer's backend and us.
DEFAULT_LEEWAY = 30.0


@dataclass(frozen=True)
class Session:
    """Who a tool call is made for.

    Create sessions with `Runtime.session()`. `identity_token` is the exact
    token the user signed in with (forwarded unchanged to JWT-forward APIs);
    it is left out of the repr. `token_error` says why a token was refused when
    the session fell back to anonymous.
    """

    integration: str
    identity_token: str | None = field(default=None, repr=False)
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)
    token_error: IdentityTokenError | None = field(default=None, repr=False)

    @property
    def identified(self) -> bool:
        return self.identity_token is not None

    @property
    def user_id(self) -> str | None:
        """The `user_id` claim, else `sub`."""
        value = self.claims.get("user_id")
        if value is None:
            value = self.claims.get("sub")
        return None if value is None else str(value)

    @property
    def email(self) -> str | None:
        value = self.claims.get("email")
        return None if value is None else str(value)

    @property
    def expires_at(self) -> float | None:
        exp = self.claims.get("exp")
        try:
            return float(exp) if exp is not None else None
        except (TypeError, ValueError):
            return None

    def __repr__(self) -> str:
        who = f"user_id={self.user_id!r}" if self.identified else "anonymous"
        return f"Session(integration={self.integration!r}, {who})"


class IdentityVerifier:
    """Verifies identity tokens with one integration's secret (HS256 only).

    Verified tokens are cached by their exact string (PyJWT's check costs about
    100 us; a dict lookup well under 1 us); expiry is still checked on every
    use, so a cached token expires on time.
    """

    def __init__(
        self, secret: str, *, leeway: float = DEFAULT_LEEWAY, cache_size: int = 4096
    ) -> None:
        self._secret = secret
        self.leeway = leeway
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._cache_size = cache_size

    def __repr__(self) -> str:
        return f"IdentityVerifier(leeway={self.leeway})"

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or `IdentityTokenError` saying why not."""
        if not isinstance(token, str) or not token:
            raise IdentityTokenError(
                "the identity token is empty or not a string.", reason="malformed"
            )

        cached = self._cache.get(token)
        if cached is not None:
            if float(cached["exp"]) + self.leeway < time.time():
                del self._cache[token]
                raise _expired()
            return cached

        claims = self._decode(token)
        self._cache[token] = claims
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            with warnings.catch_warnings():
                # A short secret is reported once when the integration is
                # built; PyJWT's own warning on every decode adds nothing.
                warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
                return jwt.decode(
                    token,
                    self._secret,
                    algorithms=["HS256"],
                    options={"require": ["exp"]},
                    leeway=self.leeway,
                )
        except jwt.ExpiredSignatureError:
            raise _expired() from None
        except jwt.InvalidSignatureError:
            raise IdentityTokenError(
                "the identity token's signature does not match the verification "
                "secret: it was signed with another secret, or altered. Check that "
                "the customer's backend and this integration share the same "
                "verification secret.",
                reason="bad_signature",
            ) from None
        except jwt.InvalidAlgorithmError:
            raise IdentityTokenError(
                "the identity token is not signed with HS256 (unsigned tokens and "
                "other algorithms are refused). Sign it with HS256 and the shared "
                "verification secret.",
                reason="algorithm_not_allowed",
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise IdentityTokenError(
                f"the identity token has no {exc.claim!r} claim; tokens must carry "
                "an expiry (exp).",
                reason="missing_claim",
            ) from None
        except jwt.ImmatureSignatureError:
            raise IdentityTokenError(
                "the identity token is not valid yet (nbf/iat in the future); "
                "check the signing server's clock.",
                reason="not_yet_valid",
            ) from None
        except jwt.InvalidTokenError:
            raise IdentityTokenError(
                "the identity token is malformed: not a JWT of three base64url "
                "parts with a JSON header and payload.",
                reason="malformed",
            ) from None


def _expired() -> IdentityTokenError:
    return IdentityTokenError(
        "the identity token has expired; the user must sign in again.",
        reason="expired",
    )
