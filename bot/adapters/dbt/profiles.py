"""The dbt profile a project uses, read the way dbt reads it, as amd-bot's warehouse settings.

Where: `settings.profiles_dir` (AMD_DBT_PROFILES_DIR or DBT_PROFILES_DIR, else the project dir when it
has a profiles.yml, else ~/.dbt), the order dbt follows. Which: the project's `profile:` and the
profile's `target:` unless AMD_DBT_TARGET / DBT_TARGET names another. Values are Jinja, as in dbt:
profiles use `env_var('NAME', 'default')` and the `as_*` filters, so those are rendered (in a sandbox).
Only the chosen target is rendered: the others may need variables this environment never has.

Secrets come back as SecretStr, and no error message here carries a rendered value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import SecretStr

SUPPORTED = ("duckdb", "snowflake")
_IN_MEMORY = (":memory:", "md:", "motherduck:")


class ProfileError(Exception):
    """The profile cannot give a warehouse connection; the message says why and is safe to show."""


class _MissingEnvVar(Exception):
    pass


@dataclass(frozen=True)
class Target:
    profile: str
    name: str
    file: Path
    fields: Mapping[str, Any]  # the rendered output of the target

    @property
    def type(self) -> str:
        return str(self.fields.get("type", ""))

    def where(self) -> str:
        return f"target `{self.name}` of profile `{self.profile}` in {self.file}"


def read_target(
    project_dir: Path, profiles_dir: Path, target: str | None, environ: Mapping[str, str]
) -> Target:
    render = _renderer(environ)
    project = _yaml(project_dir / "dbt_project.yml")
    profile_name = render(project.get("profile"), f"`profile:` of {project_dir / 'dbt_project.yml'}")
    if not profile_name:
        raise ProfileError(f"{project_dir / 'dbt_project.yml'} names no `profile:`")
    file = profiles_dir / "profiles.yml"
    profile = _yaml(file).get(str(profile_name))
    if not isinstance(profile, Mapping):
        raise ProfileError(f"{file} has no profile `{profile_name}` (the one dbt_project.yml names)")
    name = str(target or render(profile.get("target"), f"`target:` of profile `{profile_name}`") or "default")
    output = profile.get("outputs", {}).get(name)
    if not isinstance(output, Mapping):
        raise ProfileError(f"{file}: profile `{profile_name}` has no target `{name}`")
    where = f"target `{name}` of profile `{profile_name}` in {file}"
    return Target(str(profile_name), name, file, {k: render(v, where) for k, v in output.items()})


def warehouse_settings(target: Target, project_dir: Path) -> dict[str, Any]:
    """The Settings fields the target defines, typed; the caller lets explicit AMD_* settings win."""
    if target.type == "duckdb":
        return {"warehouse": "duckdb", "duckdb_path": _duckdb_file(target, project_dir)}
    if target.type == "snowflake":
        return {"warehouse": "snowflake", **_snowflake(target, project_dir)}
    raise ProfileError(
        f"{target.where()} uses the `{target.type or '?'}` adapter; amd-bot reads "
        f"{' and '.join(SUPPORTED)} warehouses. Point AMD_DBT_TARGET at a {' or '.join(SUPPORTED)} target, "
        "or configure the warehouse with AMD_WAREHOUSE and its AMD_* settings."
    )


def _duckdb_file(target: Target, project_dir: Path) -> Path:
    raw = str(target.fields.get("path") or ":memory:")
    if raw.startswith(_IN_MEMORY):
        raise ProfileError(
            f"{target.where()} uses DuckDB `{raw.split('?')[0]}`, not a file amd-bot can read; "
            "set AMD_DUCKDB_PATH to the database file the project builds"
        )
    return _beside(project_dir, raw)


def _snowflake(target: Target, project_dir: Path) -> dict[str, Any]:
    f = target.fields
    text = {
        "snowflake_account": "account",
        "snowflake_user": "user",
        "snowflake_role": "role",
        "snowflake_warehouse": "warehouse",
        "snowflake_database": "database",
        "snowflake_schema": "schema",
        "snowflake_host": "host",
        "snowflake_protocol": "protocol",
    }
    found: dict[str, Any] = {field: str(f[key]) for field, key in text.items() if f.get(key) is not None}
    secrets = {
        "snowflake_password": "password",
        "snowflake_private_key_file_pwd": "private_key_passphrase",
        "snowflake_private_key": "private_key",
    }
    found |= {field: SecretStr(str(f[key])) for field, key in secrets.items() if f.get(key)}
    if f.get("port") is not None:
        found["snowflake_port"] = int(f["port"])
    if f.get("private_key_path"):
        found["snowflake_private_key_file"] = _beside(project_dir, str(f["private_key_path"]))
    authenticator = str(f.get("authenticator") or "")
    # Key-pair is chosen by the key's presence (as dbt-snowflake does); "snowflake" is the password default.
    if authenticator.lower() not in ("", "snowflake", "snowflake_jwt"):
        found["snowflake_authenticator"] = authenticator
    return found


def _beside(project_dir: Path, raw: str) -> Path:
    # dbt runs in the project dir (teams run it there, and so does the bot): relative paths start there.
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (project_dir / path).resolve()


def _yaml(path: Path) -> Mapping[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ProfileError(f"no {path.name} at {path.parent} (dbt looks there for it)") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path} is not valid YAML: {exc}") from exc
    return loaded if isinstance(loaded, Mapping) else {}


Render = Callable[[Any, str], Any]


def _renderer(environ: Mapping[str, str]) -> Render:
    def env_var(name: str, default: str | None = None) -> str:
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise _MissingEnvVar(name)

    jinja = SandboxedEnvironment(undefined=StrictUndefined)
    jinja.globals["env_var"] = env_var
    # dbt's type filters mark how a rendered string is read; here the Settings fields do the typing.
    jinja.filters.update(as_text=str, as_bool=_same, as_number=_same, as_native=_same)

    def render(value: Any, where: str) -> Any:
        if isinstance(value, Mapping):
            return {k: render(v, where) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v, where) for v in value]
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        try:
            return jinja.from_string(value).render()
        except _MissingEnvVar as exc:
            raise ProfileError(f"{where} needs the environment variable {exc}, which is not set") from None
        except TemplateError as exc:
            raise ProfileError(f"{where}: a value cannot be rendered: {exc.message}") from None

    return render


def _same(value: Any) -> Any:
    return value
