"""Reading the settings at start, with every mistake in words: the setting as the user wrote it (a
variable, or a key in the TOML file), what it expects and an example. Nothing echoes a value: it may
be a secret. Names nothing reads (a typo such as AMD_WAREHOSE) are found here too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.foundation.errors import ConfigError
from bot.foundation.settings import Settings
from bot.foundation.settings_sources import CONFIG_VARIABLE, OTHER_VARIABLES, Written, env_names
from bot.foundation.settings_values import as_toml, as_variable, expected, item_model
from bot.foundation.suggest import closest_name

DOTENV = Path(".env")  # Settings.model_config's env_file: the working directory's


def load(env_file: Path | None = DOTENV) -> tuple[Settings, list[str]]:
    """The settings and the names nothing reads; ConfigError when the settings cannot be used."""
    written = Written.read(env_file)
    try:
        settings = Settings(_env_file=env_file)
    except ValidationError as exc:
        raise ConfigError(explain(exc, written)) from None
    return settings, unknown_names(written)


def explain(exc: ValidationError, written: Written) -> list[str]:
    said: dict[str, str] = {}  # one message per setting: a list of 20 bad items is one mistake
    for error in exc.errors(include_input=False, include_url=False):
        if not error["loc"]:
            for line in _message(error).splitlines():
                said.setdefault(line, line)
        else:
            name = _field(str(error["loc"][0]))
            said.setdefault(name, _about(name, error, written))
    return list(said.values())


def _about(name: str, error: ErrorDetails, written: Written) -> str:
    field = Settings.model_fields[name]
    variables = env_names(name, field, Settings.model_config.get("env_prefix", ""))
    origin = written.origin(name, variables)
    label, where, in_toml = origin or (variables[0], "", False)
    inside = " → ".join(str(part) for part in error["loc"][1:])
    model = item_model(field)
    if error["type"] == "extra_forbidden" and model is not None and len(error["loc"]) == 3:
        key = str(error["loc"][2])
        guess = closest_name(key, model.model_fields)
        meant = f" (did you mean `{guess}`?)" if guess else ""
        error = {**error, "msg": f"`{key}` is not a key of it{meant}"}
    at = f" (at {inside})" if inside else ""
    example = as_toml(label, field) if in_toml else as_variable(label, field)
    place = f" ({where})" if where else ""
    return (
        f"{label}{place}{at}: {_message(error)}. Expected {expected(field, in_toml=in_toml)}, e.g. {example}"
    )


def _field(loc: str) -> str:
    """pydantic reports a field read through an alias (SLACK_BOT_TOKEN) by that alias."""
    if loc in Settings.model_fields:
        return loc
    prefix = Settings.model_config.get("env_prefix", "")
    return next(n for n, f in Settings.model_fields.items() if loc.upper() in env_names(n, f, prefix))


def _message(error: ErrorDetails) -> str:
    text = error["msg"]
    return text.removeprefix("Value error, ").removeprefix("Assertion failed, ").rstrip(".")


def unknown_names(written: Written) -> list[str]:
    """One line per name that looks like a setting and is not one, with its likely meaning."""
    prefix = Settings.model_config.get("env_prefix", "")
    variables = {v for name, f in Settings.model_fields.items() for v in env_names(name, f, prefix)}
    keys = set(Settings.model_fields)
    return [*_unknown_variables(written, prefix, variables), *_unknown_keys(written, keys)]


def _unknown_variables(written: Written, prefix: str, known: set[str]) -> Iterator[str]:
    allowed = known | OTHER_VARIABLES | {CONFIG_VARIABLE}
    places = (("the environment", written.environ), (str(written.dotenv_path), written.dotenv))
    for where, values in places:
        for name in sorted(values):
            if name.upper().startswith(prefix.upper()) and name.upper() not in allowed:
                yield f"{name} (in {where}) is not a setting{_guess(name, known, prefix)}"


def _unknown_keys(written: Written, known: set[str]) -> Iterator[str]:
    for key in sorted(set(written.toml) - known):
        yield f"{key} (in {written.toml_path}) is not a setting{_guess(key, known, '')}"


def _guess(name: str, known: set[str], prefix: str) -> str:
    # Compared without the shared prefix, which would make every AMD_ name look alike; an AMD_ name is
    # matched with AMD_ names (AMD_DBT_PROFILES_DIR, not dbt's own DBT_PROFILES_DIR).
    prefix = prefix.upper()
    stem = name.upper().removeprefix(prefix)
    same = [k for k in known if k.upper().startswith(prefix) == name.upper().startswith(prefix)]
    stems = {k.upper().removeprefix(prefix): k for k in same}
    guess = closest_name(stem, stems)
    return f"; did you mean {stems[guess]}?" if guess else " (nothing reads it: remove it)"
