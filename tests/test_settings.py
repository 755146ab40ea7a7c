"""Settings precedence: defaults < config file < PARKMON_* env < command-line options."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.settings import bundled_config_dir, load_settings


def test_defaults(tmp_path):
    s = load_settings({}, env={}, cwd=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'parkmon.db'}"
    assert s.config_dir == bundled_config_dir()
    assert (s.config_dir / "parks.csv").is_file()
    assert s.output_dir == tmp_path / "site"
    assert s.lang == "zh"
    assert s.origin["database_url"] == "default"


def test_each_layer_overrides_the_one_below(tmp_path):
    cfg = tmp_path / "bureau"
    shutil.copytree(bundled_config_dir(), cfg)
    (cfg / "parkmon.toml").write_text(
        '[settings]\ndatabase_url = "file.db"\nlang = "en"\noutput_dir = "out"\n', encoding="utf-8"
    )
    s = load_settings({"config_dir": str(cfg)}, env={}, cwd=tmp_path)
    assert (s.database_url, s.lang, s.output_dir) == (
        f"sqlite:///{tmp_path / 'file.db'}",
        "en",
        tmp_path / "out",
    )
    env = {"PARKMON_DATABASE_URL": "postgresql+psycopg://u@h/db", "PARKMON_LANG": "zh"}
    s = load_settings({"config_dir": str(cfg)}, env=env, cwd=tmp_path)
    assert (s.database_url, s.lang, s.output_dir) == (
        "postgresql+psycopg://u@h/db",
        "zh",
        tmp_path / "out",
    )
    assert s.origin["database_url"] == "env"
    s = load_settings(
        {"config_dir": str(cfg), "database_url": "cli.db", "lang": "en"}, env=env, cwd=tmp_path
    )
    assert (s.database_url, s.lang) == (f"sqlite:///{tmp_path / 'cli.db'}", "en")
    assert s.origin["lang"] == "cli"
    s = load_settings({}, env={"PARKMON_CONFIG": str(cfg)}, cwd=tmp_path)
    assert s.config_dir == cfg and s.lang == "en"


def test_bad_settings_are_named(tmp_path):
    with pytest.raises(ConfigError, match="language 'fr'.*expected one of zh, en"):
        load_settings({"lang": "fr"}, env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="config folder .*nope does not exist"):
        load_settings({"config_dir": "nope"}, env={}, cwd=tmp_path)
    cfg = tmp_path / "c"
    cfg.mkdir()
    (cfg / "parkmon.toml").write_text("[settings]\ndb = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key.*db.*allowed: database_url"):
        load_settings({"config_dir": str(cfg)}, env={}, cwd=tmp_path)


def test_every_setting_and_every_source_key_is_documented():
    """docs/config.md names every setting with its environment variable, and every key a
    [[source]] accepts."""
    from monitor.config_schema import SourceTable
    from monitor.settings import SETTINGS

    docs = (Path(__file__).parent.parent / "docs" / "config.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in docs, setting.name
        assert f"`{setting.env}`" in docs, setting.env
    missing = sorted(k for k in SourceTable.model_fields if f"`{k}`" not in docs)
    assert not missing, f"undocumented source keys: {missing}"


def test_the_tile_key_is_a_setting_and_config_show_hides_it(tmp_path):
    from typer.testing import CliRunner

    from monitor.cli import app

    settings = load_settings({}, env={"PARKMON_TIANDITU_KEY": "k-123"}, cwd=tmp_path)
    assert settings.tianditu_key == "k-123" and settings.origin["tianditu_key"] == "env"
    assert "k-123" not in repr(settings)
    shown = CliRunner(env={"PARKMON_TIANDITU_KEY": "k-123"}).invoke(app, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert "tianditu_key = ***" in shown.stdout and "k-123" not in shown.stdout
