"""Operation filters, and the operation fields they read, as the user sees
them: a tag written as one string is one tag, a path pattern matches the path
it spells, and an operation is known by the name its tool shows."""

from __future__ import annotations

from typing import Any

import pytest
from _specs import spec

from ourguide_caller import Integration, OperationFilter


def op(operation_id: Any = None, **fields: Any) -> dict[str, Any]:
    operation = {"responses": {"200": {"description": "ok"}}, **fields}
    if operation_id is not None:
        operation["operationId"] = operation_id
    return operation


def kept(document_paths: dict[str, Any], **criteria: Any) -> list[str]:
    selection = OperationFilter(**criteria)
    integration = Integration(spec(document_paths), operations=selection)
    return [t.name for t in integration.tools]


PATHS = {
    "/admin/users": {"get": op("adminUsers", tags="admin")},
    "/items": {"get": op("items", tags=["items"])},
}


def test_a_tag_written_as_a_string_is_one_tag():
    """`tags: admin` is the tag "admin", never the letters a, d, m, i, n."""
    integration = Integration(spec(PATHS))

    assert ("admin",) == integration.tool("adminUsers").tags
    assert ["items"] == kept(PATHS, exclude_tags="admin")
    assert ["adminUsers"] == kept(PATHS, tags="admin")
    assert [] == kept(PATHS, tags="a")
    [note] = integration.report.operations[0].notes
    assert "read as the one tag 'admin'" in note


def test_tags_of_another_kind_are_noted_not_read_as_tags():
    """A map for `tags` names no tag; non-scalar items are passed over."""
    paths = {
        "/a": {"get": op("a", tags={"admin": True})},
        "/b": {"get": op("b", tags=["admin", {"name": "x"}])},
    }
    integration = Integration(spec(paths))

    assert () == integration.tool("a").tags
    assert ("admin",) == integration.tool("b").tags
    notes = [o.notes for o in integration.report.operations]
    assert "tags is dict, not a list; ignored" in notes[0]
    assert "tags that are not strings (lists, objects) are ignored" in notes[1]


def test_servers_that_are_not_a_list_are_noted():
    paths = {"/a": {"servers": "https://b.test", "get": op("a")}}

    [report] = Integration(spec(paths)).report.operations

    assert any("path item's servers is str" in n for n in report.notes)


@pytest.mark.parametrize("key", ["paths", "exclude_paths"])
def test_a_path_pattern_matches_the_path_it_spells(key):
    """`[id]` in a pattern would be a character class to fnmatch; a pattern
    equal to the path matches it all the same."""
    paths = {"/items/[id]": {"get": op("b")}, "/items/i": {"get": op("c")}}

    names = kept(paths, **{key: "/items/[id]"})

    assert (["b", "c"] if key == "paths" else []) == names


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("/admin", "/admin?action=delete"),  # a literal query in the key
        ("/admin/*", "/admin/users?all"),
        ("/files/[key]/*", "/files/[key]/meta"),  # brackets as written
        ("/admin", "/admin/"),
        ("/admin/*", "admin/users"),  # no leading slash
        ("/admin/*", "//admin/users"),
        ("/admin", "/admin#x"),
        ("/admin", "/%61dmin"),  # an unreserved character percent-encoded
        ("/admin/*", "/admin%2Fusers"),  # an escaped slash some servers decode
    ],
)
def test_an_exclusion_does_not_fail_open_on_how_a_path_is_written(pattern, path):
    paths = {path: {"delete": op("drop")}, "/other": {"get": op("keep")}}

    assert ["keep"] == kept(paths, exclude_paths=pattern)


def test_operations_are_picked_by_the_name_their_tool_shows():
    """`operationId: 123` is "123"; an operation without one is known by its
    derived tool name, a clashing one by its suffixed name (which it loses
    once the other is left out)."""
    paths = {
        "/n": {"get": op(123)},
        "/users/{id}": {"get": op(parameters=[])},
        "/x": {"get": op("same")},
        "/y": {"get": op("same")},
    }
    every = [t.name for t in Integration(spec(paths)).tools]
    suffixed = every[-1]

    assert ["123"] == kept(paths, operation_ids={"123"})
    assert ["get_users_id"] == kept(paths, operation_ids="get_users_id")
    assert ["same"] == kept(paths, operation_ids=suffixed)
    assert ["123", "get_users_id", "same"] == kept(
        paths, exclude_operation_ids=suffixed
    )
    assert every[1:] == kept(paths, exclude_operation_ids=123)


def test_the_report_lists_operations_in_the_specs_order():
    """Left-out and skipped operations stand where the spec has them, between
    the tools: paths in order, methods in OpenAPI's order within each."""
    paths = {
        "/a": {"post": op("makeA"), "get": op("readA", deprecated=True)},
        "/b": {"get": op("readB", parameters="oops")},
        "/c": {"delete": op("dropC"), "get": op("readC")},
    }

    report = Integration(spec(paths)).report

    assert [
        ("GET", "/a", None),
        ("POST", "/a", "makeA"),
        ("GET", "/b", None),
        ("GET", "/c", "readC"),
        ("DELETE", "/c", "dropC"),
    ] == [(o.method, o.path, o.tool) for o in report.operations]
    assert report.operations[0].filtered and report.operations[2].skipped


def test_an_operation_ref_under_a_capitalised_method_is_followed_and_filtered():
    target = op("getPet", tags=["admin"])
    document = spec({"/pets": {"GET": {"$ref": "#/x-ops/getPet"}}})
    document["x-ops"] = {"getPet": target}

    assert [] == [
        t.name
        for t in Integration(
            document, operations=OperationFilter(exclude_tags={"admin"})
        ).tools
    ]
    assert ["getPet"] == [t.name for t in Integration(document).tools]


def test_tags_beside_an_operation_ref_add_to_the_targets():
    document = spec({"/pets": {"get": {"$ref": "#/x-ops/getPet", "tags": ["pets"]}}})
    document["x-ops"] = {"getPet": op("getPet", tags=["admin"])}

    integration = Integration(
        document, operations=OperationFilter(exclude_tags={"admin"})
    )
    assert [] == integration.tools


@pytest.mark.parametrize(
    ("beside", "target"), [(["extra"], "admin"), ("extra", ["admin"])]
)
def test_tags_beside_a_ref_add_up_however_each_is_written(beside, target):
    document = spec({"/wipe": {"delete": {"$ref": "#/x-ops/wipe", "tags": beside}}})
    document["x-ops"] = {"wipe": op("wipeAll", tags=target)}

    integration = Integration(
        document, operations=OperationFilter(exclude_tags={"admin"})
    )

    assert [] == integration.tools
