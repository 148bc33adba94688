"""A real HTTP server for the "Acme Shop" sample API (`shop.yaml`).

It plays the customer's backend: it serves the API under `/api` and checks
credentials exactly as that backend would, so ourguide_caller can be tested
end to end over real sockets:

* API-key operations compare the `X-API-Key` header with the configured key;
* the service-token operation compares `Authorization: Bearer <token>` with the
  configured static token;
* "me" operations verify the end user's identity token, an HS256 JWT signed
  with the shared verification secret, and act as the user it names.

Data lives in memory, seeded afresh for every `create_app()` call, so apps do
not share state. Handlers never block or sleep, so one event loop serves many
concurrent requests.

Entry points:

* `create_app()` builds the Starlette app;
* `ShopServer` runs an app on uvicorn in a background thread (tests);
* `serve_forever()` / `python -m ourguide_caller.sample.server` runs it in the
  current process (benchmarks), reading the secrets from the environment;
* `mint_identity_token()` signs a user in, as the customer's backend would.

Needs the `demo` extra (starlette, uvicorn).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hmac
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

__all__ = [
    "DEFAULT_SECRETS",
    "JWT_LEEWAY_SECONDS",
    "ShopServer",
    "create_app",
    "mint_identity_token",
    "serve_forever",
]

JsonObject = dict[str, Any]

# DEMO VALUES ONLY. They are public (they are in this file) and exist so tests,
# examples and benchmarks can run without configuration. Never use them for
# anything reachable from outside the machine. The keys match the keyword
# arguments of `create_app()`, so `create_app(**DEFAULT_SECRETS)` works.
DEFAULT_SECRETS: dict[str, str] = {
    "api_key": "demo-acme-shop-api-key-NOT-A-SECRET",
    "service_token": "demo-acme-shop-service-token-NOT-A-SECRET",
    "verification_secret": "demo-acme-shop-jwt-verification-secret-NOT-A-SECRET",
}

# Clock skew tolerated when checking `exp`; an expired token for tests needs
# `expires_in` well below minus this.
JWT_LEEWAY_SECONDS = 5

# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
_MIN_VERIFICATION_SECRET_BYTES = 32

_REALM = "acme-shop"
_API_PREFIX = "/api"
_MAX_BODY_BYTES = 16 * 1024
_START_TIMEOUT_SECONDS = 10.0
_STOP_TIMEOUT_SECONDS = 10.0
_ENV_SECRETS = {
    "api_key": "SHOP_API_KEY",
    "service_token": "SHOP_SERVICE_TOKEN",
    "verification_secret": "SHOP_JWT_SECRET",
}

_CATEGORIES = ("books", "electronics", "garden", "kitchen")
_ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
_CANCELLABLE_STATUSES = ("pending", "paid")
_DEFAULT_LIMIT = 10
_MAX_LIMIT = 50
_MAX_QUERY_LENGTH = 100
_MAX_TAGS = 10
_MAX_BELOW = 100_000
_MAX_REASON_LENGTH = 500
_CANCEL_FIELDS = ("reason", "notify_customer")

# Plain ASCII digits only: int() would also take "1_0", " 5" and other scripts'
# digits, which a strict backend refuses.
_INTEGER_RE = re.compile(r"-?[0-9]+")


# --- seed data ---------------------------------------------------------------

_SEED_PRODUCTS: tuple[JsonObject, ...] = (
    {
        "id": "p-1001",
        "name": "Ergonomic Keyboard",
        "description": "Split wireless keyboard with a tented, low-profile layout.",
        "category": "electronics",
        "price": 89.0,
        "currency": "EUR",
        "tags": ["wireless", "office"],
        "stock": 14,
    },
    {
        "id": "p-1002",
        "name": "Noise-Cancelling Headphones",
        "description": "Over-ear wireless headphones with 30 hours of battery.",
        "category": "electronics",
        "price": 199.0,
        "currency": "EUR",
        "tags": ["wireless", "audio", "gift"],
        "stock": 3,
    },
    {
        "id": "p-1003",
        "name": "USB-C Cable (2 m)",
        "description": "Braided USB-C to USB-C cable, 100 W charging.",
        "category": "electronics",
        "price": 12.5,
        "currency": "EUR",
        "tags": ["office", "accessory"],
        "stock": 120,
    },
    {
        "id": "p-1004",
        "name": "Cast Iron Skillet",
        "description": "Pre-seasoned 26 cm skillet for stove, oven and campfire.",
        "category": "kitchen",
        "price": 39.9,
        "currency": "EUR",
        "tags": ["cookware"],
        "stock": 0,
    },
    {
        "id": "p-1005",
        "name": "Pour-Over Coffee Kit",
        "description": "Glass dripper, paper filters and a gooseneck kettle.",
        "category": "kitchen",
        "price": 45.0,
        "currency": "EUR",
        "tags": ["coffee", "gift"],
        "stock": 7,
    },
    {
        "id": "p-1006",
        "name": "The Patient Gardener",
        "description": "A year of small tasks for a calmer, greener garden.",
        "category": "books",
        "price": 24.0,
        "currency": "EUR",
        "tags": ["gardening", "gift"],
        "stock": 22,
    },
    {
        "id": "p-1007",
        "name": "Folding Garden Stool",
        "description": "Lightweight stool with a tool pouch, folds flat.",
        "category": "garden",
        "price": 29.5,
        "currency": "EUR",
        "tags": ["outdoor", "gardening"],
        "stock": 5,
    },
    {
        "id": "p-1008",
        "name": "Distributed Systems Primer",
        "description": "Consensus, replication and failure, explained with coffee.",
        "category": "books",
        "price": 54.0,
        "currency": "EUR",
        "tags": ["programming"],
        "stock": 2,
    },
)

_SEED_USERS: dict[str, str] = {
    "u-100": "ada@example.test",
    "u-200": "grace@example.test",
}


def _seed_order(
    order_id: str,
    user_id: str,
    status: str,
    created_at: str,
    lines: Iterable[tuple[str, int]],
) -> JsonObject:
    """Build one seed order, pricing its lines from the seed catalog."""
    catalog = {product["id"]: product for product in _SEED_PRODUCTS}
    items = [
        {
            "product_id": product_id,
            "name": catalog[product_id]["name"],
            "quantity": quantity,
            "unit_price": catalog[product_id]["price"],
        }
        for product_id, quantity in lines
    ]

    total = sum(item["unit_price"] * item["quantity"] for item in items)
    return {
        "id": order_id,
        "user_id": user_id,
        "customer_email": _SEED_USERS[user_id],
        "status": status,
        "items": items,
        "total": round(total, 2),
        "currency": "EUR",
        "created_at": created_at,
    }


_SEED_ORDERS: tuple[JsonObject, ...] = (
    _seed_order(
        "o-5001", "u-100", "delivered", "2025-01-10T09:30:00Z", [("p-1006", 1)]
    ),
    _seed_order(
        "o-5002",
        "u-100",
        "shipped",
        "2025-02-02T14:05:00Z",
        [("p-1001", 1), ("p-1003", 2)],
    ),
    _seed_order("o-5003", "u-100", "pending", "2025-03-15T18:45:00Z", [("p-1005", 1)]),
    _seed_order("o-5004", "u-200", "paid", "2025-02-20T08:10:00Z", [("p-1002", 1)]),
    _seed_order(
        "o-5005",
        "u-200",
        "pending",
        "2025-03-01T11:00:00Z",
        [("p-1008", 1), ("p-1003", 1)],
    ),
    {
        **_seed_order(
            "o-5006", "u-200", "cancelled", "2025-01-05T16:20:00Z", [("p-1007", 2)]
        ),
        "cancellation": {
            "reason": "Ordered twice by mistake",
            "notify_customer": True,
            "cancelled_at": "2025-01-05T16:45:00Z",
        },
    },
)


# --- errors ------------------------------------------------------------------


class _ApiError(Exception):
    """A failure answered with a JSON `Error` body; handlers raise it anywhere."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        *,
        details: list[JsonObject] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return _error_response(
            self.status_code,
            self.error,
            self.message,
            details=self.details,
            headers=self.headers,
        )


def _error_response(
    status_code: int,
    error: str,
    message: str,
    *,
    details: list[JsonObject] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: JsonObject = {"error": error, "message": message}
    if details:
        body["details"] = details

    return JSONResponse(body, status_code=status_code, headers=headers)


def _invalid_parameter(name: str, problem: str) -> _ApiError:
    return _ApiError(
        400,
        "invalid_parameter",
        f"Query parameter '{name}' {problem}.",
        details=[{"field": name, "problem": problem}],
    )


def _invalid_body(problems: list[JsonObject]) -> _ApiError:
    summary = "; ".join(f"{item['field']}: {item['problem']}" for item in problems)
    return _ApiError(
        422,
        "invalid_body",
        f"The request body does not match the schema ({summary}).",
        details=problems,
    )


def _bearer_challenge(
    error: str | None = None, description: str | None = None
) -> dict[str, str]:
    """Build an RFC 6750 `WWW-Authenticate` header; no error code when the
    request carried no token at all (RFC 6750 section 3.1)."""
    parts = [f'Bearer realm="{_REALM}"']
    if error is not None:
        parts.append(f'error="{error}"')
    if description is not None:
        parts.append(f'error_description="{description}"')

    return {"WWW-Authenticate": ", ".join(parts)}


_HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
}


async def _on_api_error(request: Request, exc: Exception) -> Response:
    # Starlette only routes `_ApiError` here; the check keeps the type honest.
    if not isinstance(exc, _ApiError):
        return await _on_unexpected_error(request, exc)
    return exc.response()


async def _on_http_error(request: Request, exc: Exception) -> Response:
    # Routing failures (unknown path, wrong method) would be plain text by
    # default; a real JSON API answers them in JSON too.
    if not isinstance(exc, HTTPException):
        return await _on_unexpected_error(request, exc)

    code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    message = f"{exc.detail} ({request.method} {request.url.path})."
    return _error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    return _error_response(
        500, "internal_error", "The shop failed to handle the request."
    )


# --- request parsing ---------------------------------------------------------


def _single_param(request: Request, name: str) -> str | None:
    """The one value of a query parameter; a repeated parameter is refused
    because the spec never uses `explode: true` (arrays come comma-separated)."""
    values = request.query_params.getlist(name)
    if not values:
        return None

    if len(values) > 1:
        raise _invalid_parameter(name, "must be given at most once")
    return values[0]


def _text_param(request: Request, name: str, *, max_length: int) -> str | None:
    value = _single_param(request, name)
    if value is not None and len(value) > max_length:
        raise _invalid_parameter(name, f"must be at most {max_length} characters")
    return value or None


def _int_param(
    request: Request, name: str, *, minimum: int, maximum: int, default: int | None
) -> int | None:
    value = _single_param(request, name)
    if value is None:
        return default

    if _INTEGER_RE.fullmatch(value) is None:
        raise _invalid_parameter(name, "must be an integer")

    number = int(value)
    if not minimum <= number <= maximum:
        raise _invalid_parameter(name, f"must be between {minimum} and {maximum}")
    return number


def _enum_param(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = _single_param(request, name)
    if value is not None and value not in allowed:
        raise _invalid_parameter(name, f"must be one of {', '.join(allowed)}")
    return value


def _csv_param(request: Request, name: str, *, max_items: int) -> list[str]:
    """An array parameter in `style: form, explode: false` (`tags=a,b`)."""
    value = _single_param(request, name)
    if not value:
        return []

    items = [item for item in value.split(",") if item]
    if len(items) > max_items:
        raise _invalid_parameter(name, f"must have at most {max_items} items")
    return items


async def _json_object_body(request: Request) -> JsonObject:
    """The request body as a JSON object, or a 415/400/422 error."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise _ApiError(
            415, "unsupported_media_type", "The request body must be application/json."
        )

    raw = await _read_body(request, limit=_MAX_BODY_BYTES)
    try:
        body = json.loads(raw)
    except ValueError as exc:
        # ValueError covers both bad JSON and bytes that are not valid text.
        raise _ApiError(
            400, "invalid_json", "The request body is not valid JSON."
        ) from exc

    if not isinstance(body, dict):
        raise _invalid_body([{"field": "(body)", "problem": "must be a JSON object"}])
    return body


async def _read_body(request: Request, *, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes with a JSON 413.

    Starlette's own body limit answers in plain text, hence this one.
    """
    declared = request.headers.get("content-length", "")
    # ASCII digits only: str.isdigit() alone also accepts digits int() refuses.
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _body_too_large(limit)

    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _body_too_large(limit)
        chunks.append(chunk)

    return b"".join(chunks)


def _body_too_large(limit: int) -> _ApiError:
    return _ApiError(
        413, "payload_too_large", f"The request body is larger than {limit} bytes."
    )


def _cancel_request(body: JsonObject) -> tuple[str, bool]:
    """Check a `CancelOrderRequest`, reporting every problem at once."""
    problems = [
        {"field": field, "problem": "is not a known field"}
        for field in body
        if field not in _CANCEL_FIELDS
    ]

    reason = body.get("reason")
    if "reason" not in body:
        problems.append({"field": "reason", "problem": "is required"})
    elif not isinstance(reason, str):
        problems.append({"field": "reason", "problem": "must be a string"})
    elif not 1 <= len(reason) <= _MAX_REASON_LENGTH:
        problems.append(
            {
                "field": "reason",
                "problem": f"must be 1 to {_MAX_REASON_LENGTH} characters",
            }
        )

    notify = body.get("notify_customer", False)
    if not isinstance(notify, bool):
        problems.append({"field": "notify_customer", "problem": "must be a boolean"})

    if problems:
        raise _invalid_body(problems)
    return str(reason), notify


def _bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one.
    The scheme name is case-insensitive (RFC 7235)."""
    header = request.headers.get("authorization")
    if header is None:
        return None

    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _same_secret(presented: str, expected: bytes) -> bool:
    # Starlette decodes header values as latin-1, so encoding back gives the
    # exact bytes sent; compare_digest keeps the comparison constant-time.
    return hmac.compare_digest(presented.encode("latin-1"), expected)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- the API -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _User:
    """The end user an identity token names."""

    user_id: str
    email: str | None


class _ShopApi:
    """The shop's endpoints, credentials and in-memory data for one app."""

    def __init__(
        self, *, api_key: str, service_token: str, verification_secret: str
    ) -> None:
        self._api_key = api_key.encode("utf-8")
        self._service_token = service_token.encode("utf-8")
        self._verification_secret = verification_secret.encode("utf-8")

        # Deep copies: cancelling an order in one app must not leak into another.
        self._products = {item["id"]: copy.deepcopy(item) for item in _SEED_PRODUCTS}
        self._orders = {item["id"]: copy.deepcopy(item) for item in _SEED_ORDERS}

    # -- auth --

    def _require_api_key(self, request: Request) -> None:
        presented = request.headers.get("x-api-key")
        if presented is None:
            raise _ApiError(401, "invalid_api_key", "The X-API-Key header is missing.")

        if not _same_secret(presented, self._api_key):
            raise _ApiError(
                401, "invalid_api_key", "The X-API-Key header is not a valid key."
            )

    def _require_service_token(self, request: Request) -> None:
        token = _bearer_token(request)
        if token is None:
            raise _ApiError(
                401,
                "missing_token",
                "Send the service token as 'Authorization: Bearer <token>'.",
                headers=_bearer_challenge(),
            )

        if not _same_secret(token, self._service_token):
            raise _ApiError(
                401,
                "invalid_token",
                "The service token is not valid.",
                headers=_bearer_challenge("invalid_token"),
            )

    def _require_user(self, request: Request) -> _User:
        token = _bearer_token(request)
        if token is None:
            raise _ApiError(
                401,
                "missing_token",
                "Send the user's identity token as 'Authorization: Bearer <token>'.",
                headers=_bearer_challenge(),
            )

        claims = self._verify_identity_token(token)

        user_id = claims.get("user_id") or claims.get("sub")
        if not isinstance(user_id, str) or not user_id:
            raise _invalid_token("it names no user (no user_id or sub claim)")

        email = claims.get("email")
        return _User(user_id=user_id, email=email if isinstance(email, str) else None)

    def _verify_identity_token(self, token: str) -> JsonObject:
        try:
            return jwt.decode(
                token,
                self._verification_secret,
                algorithms=["HS256"],
                options={"require": ["exp"]},
                leeway=JWT_LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise _ApiError(
                401,
                "token_expired",
                "The identity token has expired; the user must sign in again.",
                headers=_bearer_challenge("invalid_token", "The token has expired"),
            ) from exc
        except jwt.InvalidTokenError as exc:
            # Only the exception's class name: its text could quote the token.
            raise _invalid_token(f"{type(exc).__name__}") from exc

    # -- lookups --

    def _product(self, product_id: str) -> JsonObject:
        product = self._products.get(product_id)
        if product is None:
            raise _ApiError(
                404, "product_not_found", f"No product has the id '{product_id}'."
            )
        return product

    def _order(self, order_id: str) -> JsonObject:
        order = self._orders.get(order_id)
        if order is None:
            raise _ApiError(
                404, "order_not_found", f"No order has the id '{order_id}'."
            )
        return order

    # -- endpoints --

    async def search_products(self, request: Request) -> Response:
        text = _text_param(request, "q", max_length=_MAX_QUERY_LENGTH)
        category = _enum_param(request, "category", _CATEGORIES)
        tags = _csv_param(request, "tags", max_items=_MAX_TAGS)
        limit = _int_param(
            request, "limit", minimum=1, maximum=_MAX_LIMIT, default=_DEFAULT_LIMIT
        )

        matches = [
            product
            for product in self._products.values()
            if _product_matches(product, text=text, category=category, tags=tags)
        ]
        return JSONResponse(matches[:limit])

    async def get_product(self, request: Request) -> Response:
        return JSONResponse(self._product(request.path_params["productId"]))

    async def get_order(self, request: Request) -> Response:
        self._require_api_key(request)

        return JSONResponse(self._order(request.path_params["orderId"]))

    async def cancel_order(self, request: Request) -> Response:
        self._require_api_key(request)

        reason, notify = _cancel_request(await _json_object_body(request))
        order = self._order(request.path_params["orderId"])

        # Repeating a cancellation is harmless: keep the first one's record.
        if order["status"] == "cancelled":
            return JSONResponse(order)

        if order["status"] not in _CANCELLABLE_STATUSES:
            raise _ApiError(
                409,
                "order_not_cancellable",
                f"Order '{order['id']}' is {order['status']}; it can no longer be "
                "cancelled.",
            )

        # No await between the check above and this update, so concurrent
        # requests on the one event loop cannot interleave here.
        order["status"] = "cancelled"
        order["cancellation"] = {
            "reason": reason,
            "notify_customer": notify,
            "cancelled_at": _now_iso(),
        }
        return JSONResponse(order)

    async def get_stock_report(self, request: Request) -> Response:
        self._require_service_token(request)

        below = _int_param(
            request, "below", minimum=0, maximum=_MAX_BELOW, default=None
        )

        rows = [
            {
                "product_id": product["id"],
                "name": product["name"],
                "stock": product["stock"],
            }
            for product in self._products.values()
            if below is None or product["stock"] < below
        ]
        rows.sort(key=lambda row: (row["stock"], row["product_id"]))
        return JSONResponse({"generated_at": _now_iso(), "below": below, "items": rows})

    async def get_current_user(self, request: Request) -> Response:
        user = self._require_user(request)

        return JSONResponse({"user_id": user.user_id, "email": user.email})

    async def list_my_orders(self, request: Request) -> Response:
        user = self._require_user(request)

        status = _enum_param(request, "status", _ORDER_STATUSES)

        orders = [
            order
            for order in self._orders.values()
            if order["user_id"] == user.user_id
            and (status is None or order["status"] == status)
        ]
        orders.sort(key=lambda order: order["created_at"], reverse=True)
        return JSONResponse(orders)

    def routes(self) -> list[Route]:
        """The API's routes, named after the spec's operationIds."""
        return [
            Route(
                "/products",
                self.search_products,
                methods=["GET"],
                name="searchProducts",
            ),
            Route(
                "/products/{productId}",
                self.get_product,
                methods=["GET"],
                name="getProduct",
            ),
            Route(
                "/orders/{orderId}", self.get_order, methods=["GET"], name="getOrder"
            ),
            Route(
                "/orders/{orderId}/cancel",
                self.cancel_order,
                methods=["POST"],
                name="cancelOrder",
            ),
            Route(
                "/reports/stock",
                self.get_stock_report,
                methods=["GET"],
                name="getStockReport",
            ),
            Route("/me", self.get_current_user, methods=["GET"], name="getCurrentUser"),
            Route(
                "/me/orders", self.list_my_orders, methods=["GET"], name="listMyOrders"
            ),
        ]


def _invalid_token(reason: str) -> _ApiError:
    return _ApiError(
        401,
        "invalid_token",
        f"The identity token was refused ({reason}).",
        headers=_bearer_challenge("invalid_token"),
    )


def _product_matches(
    product: JsonObject, *, text: str | None, category: str | None, tags: list[str]
) -> bool:
    if category is not None and product["category"] != category:
        return False

    if not set(tags) <= set(product["tags"]):
        return False

    if text is None:
        return True
    needle = text.casefold()
    return (
        needle in product["name"].casefold()
        or needle in product["description"].casefold()
    )


def create_app(
    *, api_key: str, service_token: str, verification_secret: str
) -> Starlette:
    """Build the shop app, with the API mounted under `/api`.

    Each app starts from fresh seed data. Raises ValueError for an empty
    credential or a verification secret shorter than 32 bytes.
    """
    for name, value in (
        ("api_key", api_key),
        ("service_token", service_token),
        ("verification_secret", verification_secret),
    ):
        if not value:
            raise ValueError(f"create_app: {name} must not be empty")

    if len(verification_secret.encode("utf-8")) < _MIN_VERIFICATION_SECRET_BYTES:
        raise ValueError(
            "create_app: verification_secret must be at least "
            f"{_MIN_VERIFICATION_SECRET_BYTES} bytes for HS256 (RFC 7518 section 3.2)"
        )

    api = _ShopApi(
        api_key=api_key,
        service_token=service_token,
        verification_secret=verification_secret,
    )
    return Starlette(
        routes=[Mount(_API_PREFIX, routes=api.routes())],
        exception_handlers={
            _ApiError: _on_api_error,
            HTTPException: _on_http_error,
            Exception: _on_unexpected_error,
        },
    )


def mint_identity_token(
    secret: str, *, user_id: str, email: str, expires_in: int = 3600, **extra: Any
) -> str:
    """Sign a user in as the customer's backend would: an HS256 JWT with
    `user_id`, `email`, `sub` (= user_id), `iat` and `exp` (now + expires_in;
    negative for an already expired token, mind `JWT_LEEWAY_SECONDS`).

    `extra` adds claims or overrides the ones above; a None value removes the
    claim (for example `exp=None` for a token that never expires).
    """
    now = int(time.time())
    claims: JsonObject = {
        "user_id": user_id,
        "email": email,
        "sub": user_id,
        "iat": now,
        "exp": now + expires_in,
    }

    claims.update(extra)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, secret, algorithm="HS256")


# --- running it --------------------------------------------------------------


def _uvicorn_config(
    app: ASGIApp, *, host: str, port: int, embedded: bool
) -> uvicorn.Config:
    # Access logs stay off: they would print request URLs. An embedded server
    # leaves the host process's logging configuration alone (log_config=None).
    options: JsonObject = {"log_config": None} if embedded else {}
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=5,
        **options,
    )


def _bound_base_url(server: uvicorn.Server) -> str:
    """The API's base URL with the port the server actually bound."""
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{_API_PREFIX}"


class ShopServer:
    """Runs an app on uvicorn in a background thread on `host` (127.0.0.1 by
    default) and a free port (port=0). `base_url` is known once started."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """For example `http://127.0.0.1:54321/api`."""
        if self._base_url is None:
            raise RuntimeError("ShopServer is not running; call start() first")
        return self._base_url

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("ShopServer is already running")

        config = _uvicorn_config(
            self._app, host=self._host, port=self._port, embedded=True
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="acme-shop-server", daemon=True
        )
        self._thread.start()

        self._wait_until_started(self._server, self._thread)
        self._base_url = _bound_base_url(self._server)

    def _wait_until_started(
        self, server: uvicorn.Server, thread: threading.Thread
    ) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive():
                self._forget()
                raise RuntimeError(
                    f"The shop server could not start on {self._host}:{self._port} "
                    "(is the port in use? uvicorn logged the reason)"
                )

            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "The shop server did not start within "
                    f"{_START_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end; safe to call twice."""
        if self._server is None or self._thread is None:
            return

        self._server.should_exit = True
        self._thread.join(_STOP_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            # Open connections are holding the graceful shutdown up.
            self._server.force_exit = True
            self._thread.join(_STOP_TIMEOUT_SECONDS)

        self._forget()

    def _forget(self) -> None:
        self._server = None
        self._thread = None
        self._base_url = None

    def __enter__(self) -> ShopServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    *, host: str, port: int, api_key: str, service_token: str, verification_secret: str
) -> None:
    """Serve the shop in this process until SIGINT/SIGTERM. Prints one line,
    `listening on http://host:port/api`, once it accepts connections."""
    app = create_app(
        api_key=api_key,
        service_token=service_token,
        verification_secret=verification_secret,
    )
    server = uvicorn.Server(_uvicorn_config(app, host=host, port=port, embedded=False))

    asyncio.run(_serve_and_announce(server))


async def _serve_and_announce(server: uvicorn.Server) -> None:
    serving = asyncio.create_task(_serve_catching_exit(server))

    # uvicorn has no "ready" hook; poll its flag alongside the serving task.
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)

    if server.started:
        print(f"listening on {_bound_base_url(server)}", flush=True)

    exit_code = await serving
    if exit_code:
        raise SystemExit(exit_code)


async def _serve_catching_exit(server: uvicorn.Server) -> int | str | None:
    """Run uvicorn, returning the code it exits with when it cannot start.

    uvicorn calls sys.exit() when it cannot bind; escaping a task, that would
    also log a "Task exception was never retrieved" traceback.
    """
    try:
        await server.serve()
    except SystemExit as exc:
        return exc.code
    return None


def _secrets_from_environment(use_demo: bool) -> dict[str, str]:
    """The three secrets from SHOP_API_KEY, SHOP_SERVICE_TOKEN and
    SHOP_JWT_SECRET; never from argv, which other users can read in `ps`."""
    if use_demo:
        return dict(DEFAULT_SECRETS)

    missing = [env for env in _ENV_SECRETS.values() if not os.environ.get(env)]
    if missing:
        raise SystemExit(
            f"error: set {', '.join(missing)} in the environment "
            "(or pass --demo-secrets to use the public demo values)"
        )
    return {name: os.environ[env] for name, env in _ENV_SECRETS.items()}


def main(argv: list[str] | None = None) -> None:
    """`python -m ourguide_caller.sample.server [--host H] [--port N]`."""
    parser = argparse.ArgumentParser(
        prog="python -m ourguide_caller.sample.server",
        description="Serve the Acme Shop sample API under /api.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--demo-secrets",
        action="store_true",
        help="use the public demo secrets instead of SHOP_API_KEY, "
        "SHOP_SERVICE_TOKEN and SHOP_JWT_SECRET",
    )
    args = parser.parse_args(argv)

    secrets = _secrets_from_environment(args.demo_secrets)
    try:
        serve_forever(host=args.host, port=args.port, **secrets)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    except KeyboardInterrupt:
        # Ctrl+C after uvicorn's graceful shutdown: nothing left to report.
        sys.exit(0)


if __name__ == "__main__":
    main()
