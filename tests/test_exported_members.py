"""The public API is exactly what `ourguide_caller.__all__` lists."""

import ourguide_caller


def test_all_matches_public_names():
    """Every public name is in __all__ and every __all__ entry exists."""
    public = {
        name
        for name in dir(ourguide_caller)
        if not name.startswith("_") and name not in {"sample"}
    }

    assert sorted(ourguide_caller.__all__) == sorted(public)


def test_exported_classes_show_the_package_as_module():
    """Reprs and tracebacks show ourguide_caller.X, not a private module."""
    for name in ourguide_caller.__all__:
        obj = getattr(ourguide_caller, name)
        if isinstance(obj, type):
            assert "ourguide_caller" == obj.__module__, name
