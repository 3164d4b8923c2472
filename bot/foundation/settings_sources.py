"""Where settings are written, as pydantic-settings reads them, and as the user wrote them.

`AMD_CONFIG` names a TOML file, in the environment or in `.env`; a file it names must exist and parse.
`Written` keeps the names exactly as typed (case included), so a mistake is reported as `AMD_ALERT_POLL_S`
in the environment, or `alert_poll_s` in amd.toml, and a name nothing reads can be pointed out.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dotenv import dotenv_values
from pydantic import AliasChoices, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.foundation.errors import ConfigError
from bot.foundation.settings_values import decode

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CONFIG_VARIABLE = "AMD_CONFIG"
# AMD_* names that belong to the project's other tools, not to the bot's settings: the DAG factory
# (in Airflow's environment), the demo dbt profile, and the test suite.
OTHER_VARIABLES = frozenset(
    {"AMD_DAG_SCHEDULE", "AMD_DEMO_DUCKDB", "AMD_TEST_POSTGRES_URL", "AMD_AIRFLOW_VENV", "AMD_AIRFLOW2_VENV"}
    | {"AMD_UPDATE_GOLDEN"}
)


def _get(values: Mapping[str, str | None], name: str) -> str | None:
    """A variable by name in any case, as pydantic-settings matches them; empty means unset."""
    for key, value in values.items():
        if key.upper() == name and value:
            return value
    return None


def config_path(
    environ: Mapping[str, str | None], dotenv: Mapping[str, str | None]
) -> tuple[Path, str] | None:
    """The TOML file AMD_CONFIG names, and where AMD_CONFIG was set; the environment wins over `.env`."""
    if found := _get(environ, CONFIG_VARIABLE):
        return Path(found), "the environment"
    if found := _get(dotenv, CONFIG_VARIABLE):
        return Path(found), ".env"
    return None


class TomlFile(TomlConfigSettingsSource):
    """pydantic-settings' TOML source, but a file that is named and missing, unreadable or not TOML is a
    configuration error (pydantic-settings skips a missing file, which left access rules unapplied)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, where: str) -> None:
        self.where = where
        if not path.is_file():
            said = f"{CONFIG_VARIABLE} (in {where}) names {path}, which does not exist"
            raise ConfigError([f"{said}: fix the path or unset it"])
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        return read_toml(Path(str(file_path)), self.where)


def read_toml(path: Path, where: str) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError([f"{CONFIG_VARIABLE} (in {where}): cannot read {path}: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:  # its message gives the line and column, never the value
        raise ConfigError([f"{CONFIG_VARIABLE} (in {where}): {path} is not valid TOML: {exc}"]) from None


def env_names(name: str, info: FieldInfo, prefix: str) -> list[str]:
    """The variables a field is read from: its aliases (SLACK_BOT_TOKEN, DBT_TARGET, …) or prefix+name."""
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [f"{prefix}{name}".upper()]


@dataclass(frozen=True)
class Written:
    """The settings' inputs with their names as typed: the environment, `.env` and the TOML file."""

    environ: Mapping[str, str]
    dotenv: Mapping[str, str | None] = field(default_factory=dict)
    dotenv_path: Path | None = None
    toml: Mapping[str, Any] = field(default_factory=dict)
    toml_path: Path | None = None

    @classmethod
    def read(cls, env_file: Path | None) -> Written:
        dotenv = dotenv_values(env_file) if env_file is not None and env_file.is_file() else {}
        config = config_path(os.environ, dotenv)
        toml = read_toml(*config) if config is not None and config[0].is_file() else {}
        return cls(
            environ=dict(os.environ),
            dotenv=dotenv,
            dotenv_path=env_file if dotenv else None,
            toml=toml,
            toml_path=config[0] if config is not None else None,
        )

    def origin(self, name: str, variables: list[str]) -> tuple[str, str, bool] | None:
        """(the name as written, where, whether it is a TOML key) for the source that won: pydantic-settings'
        order, the environment before `.env` before the TOML file."""
        wanted = {v.upper() for v in variables}
        for values, where in ((self.environ, "in the environment"), (self.dotenv, f"in {self.dotenv_path}")):
            for key, value in values.items():
                if key.upper() in wanted and value:
                    return key, where, False
        if name in self.toml:
            return name, f"in {self.toml_path}", True
        return None


class SourcedSettings(BaseSettings):
    """How Settings (bot.foundation.settings) are read: the environment, then `.env`, then the TOML file
    AMD_CONFIG names; lists and mappings decoded from text by their field's type."""

    model_config = SettingsConfigDict(
        env_prefix="AMD_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # a copied .env.example has empty values: they mean "default"
        extra="ignore",
        populate_by_name=True,
        enable_decoding=False,  # not JSON only: `_from_text` decodes comma lists and key=value pairs too
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings, dotenv_settings)
        environ, dotenv = (s.env_vars if isinstance(s, EnvSettingsSource) else {} for s in sources[1:])
        if config := config_path(environ, dotenv):  # AMD_CONFIG counts in `.env` too
            sources += (TomlFile(settings_cls, *config),)
        return (*sources, file_secret_settings)

    @field_validator("*", mode="before")
    @classmethod
    def _from_text(cls, value: Any, info: ValidationInfo) -> Any:
        # Variables are text; a TOML file may say `help_channels = "C1,C2"` too: the same rules apply.
        if isinstance(value, str) and info.field_name is not None:
            return decode(cls.model_fields[info.field_name], value)
        return value
