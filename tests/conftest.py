"""Shared fixtures: the real sample shop API, identity tokens, and a private
validation cache so no test writes under the home directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ourguide_caller.sample.server import (
    DEFAULT_SECRETS,
    ShopServer,
    create_app,
    mint_identity_token,
)

MintToken = Callable[..., str]


@dataclass(frozen=True)
class Shop:
    """A running sample shop: where it listens and the secrets it checks."""

    base_url: str
    api_key: str
    service_token: str
    verification_secret: str

    @property
    def secrets(self) -> dict[str, str]:
        """The secrets as `create_app` takes them."""
        return {
            "api_key": self.api_key,
            "service_token": self.service_token,
            "verification_secret": self.verification_secret,
        }


@pytest.fixture(name="shop", scope="session")
def _shop() -> Iterator[Shop]:
    with ShopServer(create_app(**DEFAULT_SECRETS)) as server:
        yield Shop(base_url=server.base_url, **DEFAULT_SECRETS)


@pytest.fixture(name="mint_token")
def _mint_token() -> MintToken:
    """mint_token(user_id="u-100", *, secret=..., expires_in=3600, **claims)."""

    def mint(
        user_id: str = "u-100",
        *,
        email: str | None = None,
        secret: str = DEFAULT_SECRETS["verification_secret"],
        expires_in: int = 3600,
        **extra: object,
    ) -> str:
        emails = {"u-100": "ada@example.test", "u-200": "grace@example.test"}
        address = email or emails.get(user_id, f"{user_id}@example.test")
        return mint_identity_token(
            secret, user_id=user_id, email=address, expires_in=expires_in, **extra
        )

    return mint


@pytest.fixture(name="cache_dir", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    folder = tmp_path_factory.mktemp("ourguide-cache")
    monkeypatch.setenv("OURGUIDE_CACHE_DIR", str(folder))
    return folder
