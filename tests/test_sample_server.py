"""The Acme Shop sample server: its auth checks, its data, and that it serves
exactly what `shop.yaml` describes.

The module shares one server. Tests that cancel orders each use an order no
other test reads: o-5004 (here) and o-5005 (the spec's example orderId).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from ourguide_caller.sample import SPEC_PATH
from ourguide_caller.sample import server as shop
from ourguide_caller.sample.server import (
    DEFAULT_SECRETS,
    ShopServer,
    create_app,
    mint_identity_token,
)

API_KEY = DEFAULT_SECRETS["api_key"]
SERVICE_TOKEN = DEFAULT_SECRETS["service_token"]
JWT_SECRET = DEFAULT_SECRETS["verification_secret"]
OTHER_SECRET = "another-backend-entirely-0123456789abcdef"

REPO_ROOT = Path(__file__).resolve().parents[1]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(**DEFAULT_SECRETS)


@pytest.fixture(scope="module")
def running(app: Starlette) -> Iterator[ShopServer]:
    with ShopServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def client(running: ShopServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.base_url, timeout=5.0) as http:
        yield http


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def ada_token(**extra: Any) -> str:
    return mint_identity_token(
        JWT_SECRET, user_id="u-100", email="ada@example.test", **extra
    )


def raw_token(claims: dict[str, Any], secret: str = JWT_SECRET) -> str:
    """A token with exactly these claims, for shapes mint_identity_token avoids."""
    return jwt.encode({"exp": 4_102_444_800, **claims}, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == code
    assert response.json()["message"]


# --- server lifecycle --------------------------------------------------------


def test_base_url_has_the_bound_port_and_the_api_prefix(running: ShopServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*/api", running.base_url)


def test_server_can_stop_twice_and_has_no_url_when_stopped() -> None:
    server = ShopServer(create_app(**DEFAULT_SECRETS))
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url

    server.start()
    assert httpx.get(f"{server.base_url}/products/p-1001").status_code == 200
    server.stop()
    server.stop()

    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_create_app_refuses_a_short_verification_secret() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        create_app(api_key="k", service_token="t", verification_secret="short")


def test_demo_secrets_are_usable() -> None:
    assert set(DEFAULT_SECRETS) == {"api_key", "service_token", "verification_secret"}
    assert len(DEFAULT_SECRETS["verification_secret"].encode()) >= 32


# --- public catalog ----------------------------------------------------------


def test_search_without_filters_lists_the_catalog(client: httpx.Client) -> None:
    response = client.get("/products")

    assert response.status_code == 200
    assert ids(response.json())[:3] == ["p-1001", "p-1002", "p-1003"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "COFFEE"}, ["p-1005", "p-1008"]),
        ({"category": "books"}, ["p-1006", "p-1008"]),
        ({"tags": "gift,wireless"}, ["p-1002"]),
        ({"tags": "gift", "category": "kitchen"}, ["p-1005"]),
        ({"limit": "2"}, ["p-1001", "p-1002"]),
        ({"q": "no such thing"}, []),
    ],
)
def test_search_filters_apply(
    client: httpx.Client, params: dict[str, str], expected: list[str]
) -> None:
    response = client.get("/products", params=params)

    assert response.status_code == 200
    assert ids(response.json()) == expected


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=51",
        "limit=ten",
        "limit=1_0",
        "category=toys",
        # The spec says explode: false, so an exploded array is a client bug.
        "tags=gift&tags=wireless",
    ],
)
def test_search_refuses_malformed_parameters(client: httpx.Client, query: str) -> None:
    assert_error(client.get(f"/products?{query}"), 400, "invalid_parameter")


def test_get_product_and_unknown_product(client: httpx.Client) -> None:
    found = client.get("/products/p-1004")
    assert found.status_code == 200
    assert found.json()["stock"] == 0

    assert_error(client.get("/products/p-9999"), 404, "product_not_found")


# --- API key -----------------------------------------------------------------


def test_order_lookup_with_the_api_key(client: httpx.Client) -> None:
    response = client.get("/orders/o-5002", headers={"X-API-Key": API_KEY})

    assert response.status_code == 200
    order = response.json()
    assert (order["user_id"], order["status"], order["total"]) == (
        "u-100",
        "shipped",
        114.0,
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}, bearer(API_KEY)],
    ids=["missing", "wrong", "empty", "as-bearer"],
)
def test_order_lookup_refuses_other_keys(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    assert_error(client.get("/orders/o-5002", headers=headers), 401, "invalid_api_key")


def test_unknown_order_is_404(client: httpx.Client) -> None:
    response = client.get("/orders/o-9999", headers={"X-API-Key": API_KEY})

    assert_error(response, 404, "order_not_found")


def test_cancel_order(client: httpx.Client) -> None:
    body = {"reason": "Found it cheaper", "notify_customer": True}
    response = client.post(
        "/orders/o-5004/cancel", json=body, headers={"X-API-Key": API_KEY}
    )

    assert response.status_code == 200
    order = response.json()
    assert order["status"] == "cancelled"
    assert order["cancellation"]["reason"] == "Found it cheaper"
    assert order["cancellation"]["notify_customer"] is True

    # Cancelling again changes nothing.
    again = client.post(
        "/orders/o-5004/cancel", json={"reason": "x"}, headers={"X-API-Key": API_KEY}
    )
    assert again.json()["cancellation"] == order["cancellation"]


@pytest.mark.parametrize(
    ("order_id", "kwargs", "status", "code"),
    [
        ("o-5002", {"json": {"reason": "late"}}, 409, "order_not_cancellable"),
        ("o-9999", {"json": {"reason": "late"}}, 404, "order_not_found"),
        ("o-5003", {"json": {}}, 422, "invalid_body"),
        (
            "o-5003",
            {"json": {"reason": 5, "notify_customer": "yes"}},
            422,
            "invalid_body",
        ),
        ("o-5003", {"json": {"reason": "x", "refund": True}}, 422, "invalid_body"),
        ("o-5003", {"json": ["reason"]}, 422, "invalid_body"),
        (
            "o-5003",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "invalid_json",
        ),
        ("o-5003", {"data": {"reason": "x"}}, 415, "unsupported_media_type"),
        ("o-5003", {"json": {"reason": "x" * 20_000}}, 413, "payload_too_large"),
    ],
)
def test_cancel_order_refuses_bad_requests(
    client: httpx.Client, order_id: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    headers = {"X-API-Key": API_KEY, **kwargs.pop("headers", {})}

    response = client.post(f"/orders/{order_id}/cancel", headers=headers, **kwargs)

    assert_error(response, status, code)


def test_cancel_order_needs_the_api_key(client: httpx.Client) -> None:
    response = client.post("/orders/o-5003/cancel", json={"reason": "x"})

    assert_error(response, 401, "invalid_api_key")


# --- static bearer token -----------------------------------------------------


def test_stock_report_with_the_service_token(client: httpx.Client) -> None:
    response = client.get(
        "/reports/stock", params={"below": 5}, headers=bearer(SERVICE_TOKEN)
    )

    assert response.status_code == 200
    report = response.json()
    assert report["below"] == 5
    assert [row["product_id"] for row in report["items"]] == [
        "p-1004",
        "p-1008",
        "p-1002",
    ]


def test_stock_report_scheme_name_is_case_insensitive(client: httpx.Client) -> None:
    headers = {"Authorization": f"bearer {SERVICE_TOKEN}"}

    assert client.get("/reports/stock", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": f"Basic {SERVICE_TOKEN}"}, "missing_token"),
        (bearer("wrong"), "invalid_token"),
        (bearer(API_KEY), "invalid_token"),
        ({"X-API-Key": API_KEY}, "missing_token"),
    ],
    ids=["missing", "basic", "wrong", "api-key-as-bearer", "api-key-header"],
)
def test_stock_report_refuses_other_tokens(
    client: httpx.Client, headers: dict[str, str], code: str
) -> None:
    response = client.get("/reports/stock", headers=headers)

    assert_error(response, 401, code)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


# --- JWT forward -------------------------------------------------------------


def test_me_returns_the_token_identity(client: httpx.Client) -> None:
    response = client.get("/me", headers=bearer(ada_token()))

    assert response.status_code == 200
    assert response.json() == {"user_id": "u-100", "email": "ada@example.test"}


def test_my_orders_are_only_the_token_users(client: httpx.Client) -> None:
    grace = mint_identity_token(JWT_SECRET, user_id="u-200", email="grace@example.test")

    ada_orders = client.get("/me/orders", headers=bearer(ada_token())).json()
    grace_orders = client.get("/me/orders", headers=bearer(grace)).json()

    assert ids(ada_orders) == ["o-5003", "o-5002", "o-5001"]
    assert {order["user_id"] for order in grace_orders} == {"u-200"}


def test_my_orders_status_filter(client: httpx.Client) -> None:
    response = client.get(
        "/me/orders", params={"status": "delivered"}, headers=bearer(ada_token())
    )

    assert ids(response.json()) == ["o-5001"]
    assert_error(
        client.get(
            "/me/orders", params={"status": "lost"}, headers=bearer(ada_token())
        ),
        400,
        "invalid_parameter",
    )


def test_user_falls_back_to_sub(client: httpx.Client) -> None:
    token = raw_token({"sub": "u-100"})

    response = client.get("/me", headers=bearer(token))

    assert response.json()["user_id"] == "u-100"


def test_expired_token_is_token_expired(client: httpx.Client) -> None:
    response = client.get("/me/orders", headers=bearer(ada_token(expires_in=-60)))

    assert_error(response, 401, "token_expired")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def alg_none_token() -> str:
    return jwt.encode(
        {"user_id": "u-100", "exp": 4_102_444_800}, key=None, algorithm="none"
    )


@pytest.mark.parametrize(
    "token",
    [
        mint_identity_token(OTHER_SECRET, user_id="u-100", email="ada@example.test"),
        alg_none_token(),
        ada_token(exp=None),
        raw_token({"email": "ada@example.test"}),
        "not-a-jwt",
        SERVICE_TOKEN,
    ],
    ids=["other-secret", "alg-none", "no-exp", "no-user", "garbage", "service-token"],
)
def test_bad_identity_tokens_are_invalid_token(
    client: httpx.Client, token: str
) -> None:
    response = client.get("/me/orders", headers=bearer(token))

    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_missing_identity_token(client: httpx.Client) -> None:
    response = client.get("/me")

    assert_error(response, 401, "missing_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="acme-shop"'


def test_error_bodies_never_echo_credentials(client: httpx.Client) -> None:
    token = mint_identity_token(OTHER_SECRET, user_id="u-100", email="ada@example.test")

    texts = [
        client.get("/me", headers=bearer(token)).text,
        client.get("/reports/stock", headers=bearer("s3cr3t-value")).text,
        client.get("/orders/o-5001", headers={"X-API-Key": "s3cr3t-value"}).text,
    ]

    assert not any(token in text or "s3cr3t-value" in text for text in texts)


# --- routing and the spec ----------------------------------------------------


def test_unknown_paths_and_methods_answer_in_json(client: httpx.Client) -> None:
    assert_error(client.get("/nothing-here"), 404, "not_found")
    assert_error(client.delete("/products"), 405, "method_not_allowed")


def spec_operations(spec: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (method.upper(), path): operation["operationId"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def app_operations(app: Starlette) -> dict[tuple[str, str], str]:
    (mount,) = app.routes
    assert isinstance(mount, Mount) and mount.path == "/api"

    operations = {}
    for route in mount.routes:
        assert isinstance(route, Route) and route.methods is not None
        for method in route.methods - {"HEAD"}:
            operations[(method, route.path)] = route.name
    return operations


def test_spec_is_valid_yaml_and_names_the_api_prefix(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.0.3"
    assert [server["url"] for server in spec["servers"]] == [
        "http://127.0.0.1:8000/api"
    ]
    assert not any(path.startswith("/api") for path in spec["paths"])


def test_specs_symlink_points_at_the_packaged_spec() -> None:
    link = REPO_ROOT / "specs" / "shop.yaml"

    assert link.is_symlink()
    assert os.readlink(link) == "../src/ourguide_caller/sample/shop.yaml"
    assert link.resolve() == SPEC_PATH.resolve()


def test_app_routes_match_the_spec_operations(
    spec: dict[str, Any], app: Starlette
) -> None:
    assert app_operations(app) == spec_operations(spec)


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/components/...`) until a real object."""
    while "$ref" in node:
        target: Any = spec
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target[token]
        node = target
    return node


def auth_headers(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, str]:
    """Valid credentials for the operation, chosen from its security scheme."""
    headers: dict[str, str] = {}
    for requirement in operation.get("security", []):
        for name in requirement:
            scheme = spec["components"]["securitySchemes"][name]
            if scheme["type"] == "apiKey":
                headers[scheme["name"]] = API_KEY
            elif scheme.get("bearerFormat") == "JWT":
                headers.update(bearer(ada_token()))
            else:
                headers.update(bearer(SERVICE_TOKEN))
    return headers


def fill_path(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        parameter = resolve(spec, parameter)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", parameter["example"])
    return path


def example_body(
    spec: dict[str, Any], operation: dict[str, Any]
) -> dict[str, Any] | None:
    if "requestBody" not in operation:
        return None

    schema = resolve(
        spec, operation["requestBody"]["content"]["application/json"]["schema"]
    )
    return {
        name: prop["example"]
        for name, prop in schema["properties"].items()
        if "example" in prop
    }


def test_every_spec_operation_is_served(
    client: httpx.Client, spec: dict[str, Any]
) -> None:
    for (method, path), operation_id in spec_operations(spec).items():
        operation = spec["paths"][path][method.lower()]

        response = client.request(
            method,
            fill_path(spec, path, operation),
            headers=auth_headers(spec, operation),
            json=example_body(spec, operation),
        )

        assert response.status_code == 200, (operation_id, response.text)
        assert response.headers["content-type"] == "application/json"


# --- load and the command line -----------------------------------------------


def test_64_concurrent_requests(running: ShopServer) -> None:
    token = ada_token()

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=running.base_url, limits=limits) as http:
            requests = [
                http.get("/products", params={"q": "a"}),
                http.get("/orders/o-5001", headers={"X-API-Key": API_KEY}),
                http.get("/reports/stock", headers=bearer(SERVICE_TOKEN)),
                http.get("/me/orders", headers=bearer(token)),
            ] * 16
            responses = await asyncio.gather(*requests)
        return [response.status_code for response in responses]

    assert asyncio.run(burst()) == [200] * 64


def test_command_line_reads_secrets_from_the_environment(tmp_path: Path) -> None:
    secrets = {
        "SHOP_API_KEY": "env-api-key",
        "SHOP_SERVICE_TOKEN": "env-service-token",
        "SHOP_JWT_SECRET": "env-jwt-secret-0123456789abcdef-0123456789",
    }
    env = {**os.environ, **secrets, "PYTHONPATH": str(Path(shop.__file__).parents[2])}
    command = [sys.executable, "-m", "ourguide_caller.sample.server", "--port", "0"]

    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            line = process.stdout.readline() if process.stdout else ""
            match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/api)\n", line)
            assert match, line

            token = mint_identity_token(
                secrets["SHOP_JWT_SECRET"], user_id="u-200", email="grace@example.test"
            )
            response = httpx.get(f"{match[1]}/me", headers=bearer(token))
            assert response.json()["user_id"] == "u-200"
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_command_line_refuses_to_run_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SHOP_API_KEY", "SHOP_SERVICE_TOKEN", "SHOP_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(
        SystemExit, match="SHOP_API_KEY, SHOP_SERVICE_TOKEN, SHOP_JWT_SECRET"
    ):
        shop.main(["--port", "0"])
