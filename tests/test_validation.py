"""The full OpenAPI check: explicit, cached, and never on the network."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from ourguide_caller import SpecError, load_spec
from ourguide_caller._validation import validate_document

VALID = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"type": "object"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(name="remote")
def _remote() -> Iterator[str]:
    """A local server that counts every request made to it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Counter.hits = 0
    yield f"http://127.0.0.1:{server.server_address[1]}/schema.json"
    server.shutdown()
    server.server_close()


def test_valid_document_passes_and_is_cached():
    """A valid document passes; the second check answers from the cache."""
    spec = load_spec(VALID)

    assert validate_document(spec) is False
    assert validate_document(spec) is True


def test_invalid_document_names_the_pointer():
    """A document against the OpenAPI schema is refused with its JSON pointer."""
    broken = {**VALID, "paths": {"/a": {"get": {"responses": "none"}}}}

    with pytest.raises(SpecError) as caught:
        validate_document(load_spec(broken))

    assert caught.value.pointer.startswith("/paths/~1a/get")


def test_remote_refs_are_never_fetched(remote):
    """Neither loading nor the full check fetches a remote $ref."""
    document = {
        **VALID,
        "paths": {
            "/a": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": remote}}}
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }

    spec = load_spec(document)
    with pytest.raises(SpecError, match="not fetched|outside"):
        validate_document(spec)

    assert 0 == _Counter.hits
    assert remote in spec.broken_refs
