"""Where the database, the configuration and the output live, and in which language to speak.

Precedence, lowest first: code defaults < ``<config folder>/parkmon.toml`` < ``PARKMON_*``
environment variables < command-line options. The config folder itself is chosen by
``--config`` > ``PARKMON_CONFIG`` > the bundled ``config/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import create_model

from monitor import config_schema
from monitor.errors import ConfigError

LANGUAGES = ("zh", "en")
SETTINGS_FILE = "parkmon.toml"
ENV_PREFIX = "PARKMON_"


@dataclass(frozen=True)
class Setting:
    """One setting: its name in parkmon.toml, default, environment variable, option and help."""

    name: str
    default: str
    env: str
    option: str | None
    help: str
    secret: bool = False


# The one table of settings (docs/config.md documents each; a test keeps them in step).
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "parkmon.db",
        "PARKMON_DATABASE_URL",
        "--db",
        "SQLite file (relative to where parkmon runs) or a SQLAlchemy URL (PostgreSQL)",
    ),
    Setting("output_dir", "site", "PARKMON_OUTPUT", "--out", "where maps and reports are written"),
    Setting("lang", "zh", "PARKMON_LANG", "--lang", "language of everything shown: zh or en"),
    Setting(
        "tianditu_key",
        "",
        "PARKMON_TIANDITU_KEY",
        None,
        "key of the Tianditu tile layer (maps --tiles tianditu); never written into a page",
        secret=True,
    ),
    Setting(
        "secret_key",
        "",
        "PARKMON_SECRET_KEY",
        None,
        "key signing the web application's session cookies (default: one generated once and "
        "kept in the database, shared by every worker)",
        secret=True,
    ),
    Setting(
        "public",
        "",
        "PARKMON_PUBLIC",
        None,
        "what visitors who have not signed in may read: all, none, or sections such as "
        "overview,map,goals (default: all on a demo database, none otherwise)",
    ),
)
_KEYS = tuple(s.name for s in SETTINGS)
# parkmon.toml: a [settings] table whose keys are exactly the settings above, each a text.
_SettingsTable = create_model(
    "_SettingsTable",
    __base__=config_schema.Table,
    **{s.name: (str | None, None) for s in SETTINGS},  # type: ignore[call-overload]
)
_SettingsFile = create_model(
    "_SettingsFile",
    __base__=config_schema.Table,
    settings=(_SettingsTable | None, None),
)


def bundled_config_dir() -> Path:
    """The config folder shipped with parkmon (the repository's ``config/``).

    An installed wheel carries it as ``monitor/_bundled_config``; a source checkout or an editable
    install finds the top-level ``config/`` next to the ``monitor`` package.
    """
    package = Path(__file__).resolve().parent
    installed = package / "_bundled_config"
    return installed if installed.is_dir() else package.parent / "config"


def database_url_from(value: str, base: Path) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as a SQLite file)."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; ``origin`` records which layer each value came from."""

    database_url: str
    config_dir: Path
    output_dir: Path
    lang: str
    origin: Mapping[str, str] = field(default_factory=dict)
    tianditu_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    public: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _read_settings_file(path: Path) -> dict[str, str]:
    model = config_schema.load(path, _SettingsFile, missing_ok=True)
    if model is None or model.settings is None:
        return {}
    return {str(k): str(v) for k, v in model.settings.model_dump(exclude_unset=True).items()}


def load_settings(
    cli: Mapping[str, str | None] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve settings from defaults, the config folder's parkmon.toml, env vars and CLI options.

    ``cli`` may hold ``config_dir``, ``database_url``, ``output_dir`` and ``lang`` (None = unset).
    """
    cli = dict(cli or {})
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    origin: dict[str, str] = {}

    config_value = cli.get("config_dir") or env.get(ENV_PREFIX + "CONFIG")
    if config_value:
        config_dir = Path(config_value).expanduser()
        if not config_dir.is_absolute():
            config_dir = cwd / config_dir
        origin["config_dir"] = "cli" if cli.get("config_dir") else "env"
        if not config_dir.is_dir():
            raise ConfigError(
                f"config folder {config_dir} does not exist; point --config or PARKMON_CONFIG "
                "at a folder laid out like the bundled config/ (copy it with `parkmon config copy`)"
            )
    else:
        config_dir = bundled_config_dir()
        origin["config_dir"] = "default"

    values = {setting.name: setting.default for setting in SETTINGS}
    origin.update({k: "default" for k in values})
    for key, value in _read_settings_file(config_dir / SETTINGS_FILE).items():
        values[key] = value
        origin[key] = f"{config_dir / SETTINGS_FILE}"
    for setting in SETTINGS:
        if env.get(setting.env):
            values[setting.name] = env[setting.env]
            origin[setting.name] = "env"
        cli_value = cli.get(setting.name)
        if cli_value:
            values[setting.name] = cli_value
            origin[setting.name] = "cli"

    lang = values["lang"].lower()
    if lang not in LANGUAGES:
        raise ConfigError(
            f"language {values['lang']!r} (from {origin['lang']}) is not supported; "
            f"expected one of {', '.join(LANGUAGES)}"
        )
    output_dir = Path(values["output_dir"]).expanduser()
    if not output_dir.is_absolute():
        output_dir = cwd / output_dir
    return Settings(
        database_url=database_url_from(values["database_url"], cwd),
        config_dir=config_dir,
        output_dir=output_dir,
        lang=lang,
        origin=origin,
        tianditu_key=values["tianditu_key"],
        secret_key=values["secret_key"],
        public=values["public"],
    )
