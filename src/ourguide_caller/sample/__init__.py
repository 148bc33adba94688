"""The "Acme Shop" sample: a small customer API to exercise ourguide_caller against.

* `shop.yaml` (`SPEC_PATH`) is the customer's OpenAPI 3.0.3 document: a public
  catalog, staff operations behind an API key, a report behind a static service
  token, and "me" operations behind the signed-in user's identity token (JWT).
* `ourguide_caller.sample.server` serves that API for real over HTTP (Starlette
  and uvicorn, from the `demo` extra), for tests, examples and benchmarks.

This module imports nothing from the server, so the spec can be located
without the `demo` extra installed.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SPEC_PATH"]

SPEC_PATH: Path = Path(__file__).with_name("shop.yaml")
