"""`ourguide-caller demo`: the sample shop API, called with every kind of auth.

It starts the sample API on a free 127.0.0.1 port, builds a runtime for it,
shows which tools an anonymous and a signed-in session see, calls one tool
per auth type, and then shows the three failures users meet most (a tool
that needs a signed-in user, an expired identity token, a wrong API key)
and what the runtime says about each.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ._credentials import ApiKey, BearerToken, JwtForward
from ._errors import IdentityTokenError, ToolCallError
from ._integration import Integration
from ._result import ToolResult
from ._runtime import Runtime

__all__ = ["run_demo"]


def _shop(
    base_url: str, secrets: dict[str, str], *, api_key: str | None = None
) -> Integration:
    from .sample import SPEC_PATH

    return Integration(
        SPEC_PATH,
        name="shop",
        base_url=base_url,
        auth=[
            ApiKey(key=api_key or secrets["api_key"], header="X-API-Key"),
            BearerToken(token=secrets["service_token"]),
            JwtForward(),
        ],
        verification_secret=secrets["verification_secret"],
    )


def _tool_table(title: str, tools: list[Any]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("tool", style="bold")
    table.add_column("request")
    table.add_column("auth")
    for tool in tools:
        row = (tool.name, f"{tool.method} {tool.path}", tool.security.summary())
        table.add_row(*(escape(cell) for cell in row))
    return table


def _show(console: Console, title: str, result: ToolResult) -> None:
    body = result.content
    if isinstance(result.data, dict | list):
        body = json.dumps(result.data, indent=2, ensure_ascii=False)
    lines = body.splitlines()
    if len(lines) > 14:
        body = "\n".join(lines[:14]) + f"\n... ({len(lines) - 14} more lines)"
    status = "[green]ok[/green]" if result.ok else f"[red]{result.error}[/red]"
    text = f"HTTP {result.status} {status}\n{escape(body)}"
    if result.hint:
        text += f"\n[yellow]hint:[/yellow] {escape(result.hint)}"
    console.print(Panel(text, title=title, title_align="left"))


async def _calls(console: Console, base_url: str, secrets: dict[str, str]) -> None:
    from .sample.server import mint_identity_token

    shop = _shop(base_url, secrets)
    async with Runtime(shop) as runtime:
        anonymous = runtime.session()
        token = mint_identity_token(
            secrets["verification_secret"], user_id="u-100", email="ada@example.test"
        )
        ada = runtime.session(token)
        console.print(
            _tool_table("Tools for an anonymous session", runtime.tools_for(anonymous))
        )
        console.print(
            _tool_table(f"Tools for {ada.email} (signed in)", runtime.tools_for(ada))
        )

        console.rule("One call per auth type")
        calls = [
            (
                "no auth: searchProducts",
                anonymous,
                "searchProducts",
                {"q": "coffee", "limit": 2},
            ),
            ("API key: getOrder", anonymous, "getOrder", {"orderId": "o-5001"}),
            (
                "bearer token: getStockReport",
                anonymous,
                "getStockReport",
                {"below": 20},
            ),
            ("JWT forward: listMyOrders as ada", ada, "listMyOrders", {}),
        ]
        for title, session, name, arguments in calls:
            _show(console, title, await runtime.call(session, name, arguments))

        console.rule("What goes wrong, and what the runtime says")
        try:
            await runtime.call(anonymous, "listMyOrders", {})
        except ToolCallError as exc:
            console.print(
                Panel(
                    f"{type(exc).__name__}: {escape(str(exc))}\n"
                    f"[cyan]to the model:[/cyan] {escape(exc.llm_message)}",
                    title="JWT tool, anonymous session",
                    title_align="left",
                )
            )
        expired = mint_identity_token(
            secrets["verification_secret"],
            user_id="u-100",
            email="ada@example.test",
            expires_in=-3600,
        )
        try:
            runtime.session(expired)
        except IdentityTokenError as exc:
            console.print(
                Panel(
                    f"IdentityTokenError ({exc.reason}): {escape(str(exc))}",
                    title="expired identity token",
                    title_align="left",
                )
            )

    wrong = _shop(base_url, secrets, api_key="not-the-right-key")
    async with Runtime(wrong) as runtime:
        result = await runtime.call(
            runtime.session(), "getOrder", {"orderId": "o-5001"}
        )
        _show(console, "wrong API key configured", result)


def run_demo(console: Console) -> None:
    """Start the sample API, run the calls above, stop the API."""
    try:
        from .sample.server import DEFAULT_SECRETS, ShopServer, create_app
    except ImportError as exc:
        console.print(
            f"[red]The demo needs the sample server's packages ({exc.name}).[/red] "
            "Install them with: pip install 'ourguide-caller[demo]'"
        )
        raise SystemExit(2) from None

    secrets = dict(DEFAULT_SECRETS)
    with ShopServer(create_app(**secrets)) as server:
        console.print(f"Sample shop API listening on [bold]{server.base_url}[/bold]\n")
        asyncio.run(_calls(console, server.base_url, secrets))
