"""Full validation of a document against the OpenAPI schema, on request.

Building an integration already catches everything that would break a tool,
with its JSON pointer. Checking the whole document against the OpenAPI
schema (openapi-core, through openapi-spec-validator) finds more, but costs
seconds on a large spec (4.5 s on Stripe's), so it is an explicit step:
`ourguide-caller check`, or `validate_document()`. A document that passed
is remembered by its content hash, so the same document is checked once.

The validator is given resolvers that refuse every retrieval: it must not
fetch a remote `$ref` or read a `file:` one on its own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ._errors import SpecError
from ._loader import LoadedSpec
from ._refs import RefResolver, join_pointer

__all__ = ["validate_document"]

logger = logging.getLogger(__name__)

_passed: set[str] = set()


def _cache_dir() -> Path | None:
    configured = os.environ.get("OURGUIDE_CACHE_DIR")
    if configured == "":
        return None
    base = (
        Path(configured) if configured else Path.home() / ".cache" / "ourguide-caller"
    )
    return base / "validated"


def _remembered(content_hash: str) -> bool:
    if content_hash in _passed:
        return True
    folder = _cache_dir()
    return folder is not None and (folder / content_hash).exists()


def _remember(content_hash: str) -> None:
    _passed.add(content_hash)
    folder = _cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / content_hash).touch()
    except OSError as exc:
        logger.info("could not record the validation verdict in %s: %s", folder, exc)


def _refuse(uri: str) -> Any:
    raise SpecError(
        f"the document refers to {uri!r}, which is not fetched while validating.",
        source=uri,
    )


def _check_refs(spec: LoadedSpec) -> None:
    """Every `$ref` in the document must lead somewhere; the first that does
    not is reported with the pointer of the `$ref` itself."""
    resolver = RefResolver(
        spec.document,
        source=spec.source,
        broken_refs=spec.broken_refs,
        anchors=spec.anchors,
    )
    stack: list[tuple[Any, str]] = [(spec.document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolver.deref({"$ref": node["$ref"]}, pointer)
            stack.extend((v, join_pointer(pointer, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, join_pointer(pointer, i)) for i, v in enumerate(node))


def validate_document(spec: LoadedSpec) -> bool:
    """Raise `SpecError` (with the JSON pointer) unless the document is valid
    OpenAPI; True when the verdict came from the cache."""
    if _remembered(spec.content_hash):
        return True

    _check_refs(spec)

    from jsonschema_path import SchemaPath
    from openapi_core import OpenAPI
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    refusing = {
        "http": _refuse,
        "https": _refuse,
        "file": _refuse,
        "<all_urls>": _refuse,
    }
    path = SchemaPath.from_dict(spec.document, handlers=refusing)
    try:
        OpenAPI(path)
    except OpenAPIValidationError as exc:
        pointer = join_pointer("", *exc.absolute_path)
        reason = str(exc.message).splitlines()[0]
        raise SpecError(
            f"not valid OpenAPI {spec.document.get('openapi')}: {reason}",
            source=spec.source,
            pointer=pointer,
        ) from None
    except SpecError:
        raise
    except RecursionError:
        raise SpecError(
            "the document nests too deeply for the OpenAPI validator to walk "
            "(hundreds of levels). Flatten the deep part, or move it into "
            "components and refer to it with $ref.",
            source=spec.source,
        ) from None
    except Exception as exc:
        # The validator's resolver raises its own error types for references
        # it cannot follow; report them like any other invalid document.
        raise SpecError(
            f"the OpenAPI validator could not check the document: "
            f"{type(exc).__name__}: {exc}",
            source=spec.source,
        ) from None
    _remember(spec.content_hash)
    return False
