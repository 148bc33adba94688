"""Integration settings from a file, with secrets from the environment."""

from pathlib import Path

import pytest

from ourguide_caller import ConfigError, Integration, load_config
from ourguide_caller.sample import SPEC_PATH

CONFIG = f"""
name: shop
spec: {SPEC_PATH.name}
base_url: https://shop.example.test/api
auth:
  - {{type: api_key, header: X-API-Key, key_env: TEST_SHOP_KEY}}
  - {{type: bearer, token_env: TEST_SHOP_TOKEN}}
  - {{type: jwt_forward}}
verification_secret_env: TEST_SHOP_SECRET
"""


@pytest.fixture(name="config_file")
def _config_file(tmp_path: Path) -> Path:
    (tmp_path / SPEC_PATH.name).write_text(SPEC_PATH.read_text())
    path = tmp_path / "shop.integration.yaml"
    path.write_text(CONFIG)
    return path


def test_config_file_builds_the_integration(config_file, monkeypatch):
    """Secrets come from the named variables; the spec path is relative to the file."""
    monkeypatch.setenv("TEST_SHOP_KEY", "k-123")
    monkeypatch.setenv("TEST_SHOP_TOKEN", "t-456")
    monkeypatch.setenv("TEST_SHOP_SECRET", "s" * 40)

    integration = load_config(config_file)

    assert "shop" == integration.name
    assert {"k-123", "t-456", "s" * 40} <= set(integration.secret_values)
    assert "getOrder" in {t.name for t in integration.tools}
    assert "k-123" not in repr(integration)


def test_missing_environment_variable_is_named(config_file, monkeypatch):
    """An unset variable is a ConfigError naming it, not a KeyError."""
    monkeypatch.delenv("TEST_SHOP_KEY", raising=False)
    monkeypatch.setenv("TEST_SHOP_TOKEN", "t-456")
    monkeypatch.setenv("TEST_SHOP_SECRET", "s" * 40)

    with pytest.raises(ConfigError, match="TEST_SHOP_KEY"):
        load_config(config_file)


def test_unknown_setting_is_reported_with_its_place(tmp_path):
    """A misspelt key is refused with where it is, and no secret values."""
    path = tmp_path / "bad.yaml"
    path.write_text("spec: x.yaml\nbase_ulr: https://x.test\n")

    with pytest.raises(ConfigError, match="base_ulr"):
        load_config(path)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("base_url", 5),
        ("base_url", b"https://x.test"),
        ("base_url", ""),
        ("base_url", "https://x.test/\r\nHost: y"),
        ("server_variables", "r=eu"),
        ("server_variables.subdomain", {"subdomain": None}),
        ("spec_root_dir", 5),
        ("allow_remote_refs", "false"),
        ("operations", {"tags": ["a"]}),
        ("auth", "key"),
        ("auth", [None]),
        ("credentials", {"x": "y"}),
        ("timeout", 0),
        ("max_result_chars", "many"),
    ],
)
def test_settings_of_the_wrong_kind_are_config_errors(setting, value):
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {},
    }

    with pytest.raises(ConfigError) as caught:
        Integration(document, **{setting.partition(".")[0]: value})

    assert setting == caught.value.setting


def test_credentials_keyed_by_something_other_than_a_scheme_name_are_refused():
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}

    with pytest.raises(ConfigError, match="credentials"):
        from ourguide_caller import ApiKey

        Integration(document, credentials={1: ApiKey(key="k" * 24)})


def test_a_base_url_of_the_wrong_kind_is_not_echoed():
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}

    with pytest.raises(ConfigError) as caught:
        Integration(document, base_url=b"https://u:sk-live-VERYSECRET@x.test")

    assert "VERYSECRET" not in str(caught.value)


@pytest.mark.parametrize("source", [["a"], 5, "/tmp/a\0b.yaml"])
def test_load_config_of_the_wrong_kind_is_a_config_error(source):
    with pytest.raises(ConfigError):
        load_config(source)
