"""Tool names: valid for every provider, unique, and stable."""

import re

from ourguide_caller._naming import assign_tool_names, clean_argument_name

VALID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_operation_id_kept_when_valid_and_unique():
    """A valid, unique operationId is the tool name, unchanged."""
    names = assign_tool_names([("getHealth", "GET", "/health")])

    assert ["getHealth"] == names


def test_names_without_operation_id_come_from_method_and_path():
    """Without an operationId the name is built from the method and the path."""
    names = assign_tool_names([(None, "GET", "/users/{userId}/orders")])

    assert ["get_users_userId_orders"] == names


def test_long_names_sharing_a_prefix_stay_distinct():
    """Two long ids with the same first 87 characters get different names."""
    common = "x" * 87
    ops = [(common + "EmailChannel", "GET", "/a"), (common + "SmsChannel", "GET", "/b")]

    names = assign_tool_names(ops)

    assert all(VALID.match(n) for n in names)
    assert len(set(names)) == 2


def test_collision_suffix_does_not_depend_on_order():
    """A clash is settled by a hash of method and path, not by position."""
    ops = [("proxy", "GET", "/p"), ("proxy", "POST", "/p"), ("other", "GET", "/o")]

    forward = dict(zip(ops, assign_tool_names(ops), strict=True))
    backward = dict(zip(ops[::-1], assign_tool_names(ops[::-1]), strict=True))

    assert forward == backward
    assert forward[ops[0]] != forward[ops[1]]
    assert "other" in assign_tool_names(ops)


def test_invalid_characters_are_replaced():
    """Characters providers refuse become underscores."""
    names = assign_tool_names([("users.list/all v2", "GET", "/u")])

    assert VALID.match(names[0])


def test_argument_names_are_cleaned():
    """Argument names keep to what providers accept."""
    assert "ids" == clean_argument_name("ids[]")
    assert "created_gte" == clean_argument_name("created[gte]")
    assert len(clean_argument_name("a" * 100)) <= 64
