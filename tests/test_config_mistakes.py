"""Every configuration mistake is answered with words and exit code 2: the setting named as the user
wrote it (variable, `.env` line or TOML key), the expected format and an example; never a traceback.

The table is derived from Settings.model_fields, so a setting added later is covered without editing
this file. Every case runs through the CLI's own entry point in-process (fast); a representative few
run as real processes below."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import annotated_types
import pytest
from pydantic.fields import FieldInfo

from bot import cli
from bot.foundation.settings import Settings
from bot.foundation.settings_load import load
from bot.foundation.settings_sources import env_names
from bot.foundation.settings_values import shape

ROOT = Path(__file__).resolve().parent.parent
PLACES = ("env", "dotenv", "toml")


@dataclass(frozen=True)
class Mistake:
    setting: str
    kind: str  # wrong value | wrong type | misspelled name
    place: str  # env | dotenv | toml
    text: str  # as written: a variable's value, or a TOML literal

    def __str__(self) -> str:
        return f"{self.setting}-{self.kind}-{self.place}"


def variable(name: str) -> str:
    return env_names(name, Settings.model_fields[name], "AMD_")[0]


def _bound(field: FieldInfo) -> str | None:
    """A number just outside the field's declared range."""
    for limit in field.metadata:
        if not isinstance(limit, annotated_types.BaseMetadata):
            continue
        for attr, step in (("gt", 0), ("ge", -1), ("lt", 0), ("le", 1)):
            if (edge := getattr(limit, attr, None)) is not None:
                return str(edge + step)
    return None


def wrong_texts(name: str, field: FieldInfo) -> dict[str, str]:
    """As a variable: a value outside what the field accepts, and a value of another type (where text
    can be of another type at all: any text is a valid `str`)."""
    kind, annotation = shape(field), field.annotation
    if kind == "list":
        return {"wrong value": '["unterminated"', "wrong type": '{"an": "object"}'}
    if kind in ("mapping", "groups"):
        return {"wrong value": "no-equals-sign", "wrong type": '["an", "array"]'}
    if kind == "models":
        return {"wrong value": '[{"name": {"nested": true}}]', "wrong type": "5"}
    texts = {}
    if "Literal" in str(annotation) or annotation is bool:
        texts["wrong value"] = "no-such-choice"
    if annotation in (int, float, int | None, bool):
        texts["wrong type"] = "abc"
    if (outside := _bound(field)) is not None:
        texts["wrong value"] = outside
    if any(getattr(m, "pattern", None) for m in field.metadata):
        texts["wrong value"] = "not-in-the-form"
    if name == "migration_ingest_token":
        texts["wrong value"] = "short"
    return texts


def _typo(word: str) -> str:
    """Two neighbouring letters swapped in the middle: the commonest slip."""
    i = len(word) // 2
    while word[i] == word[i + 1] or "_" in word[i : i + 2]:
        i += 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def mistakes() -> list[Mistake]:
    table = []
    for name, field in Settings.model_fields.items():
        for kind, text in wrong_texts(name, field).items():
            table += [Mistake(name, kind, place, text) for place in ("env", "dotenv")]
        # In TOML every setting has a wrong type: an array where a value is wanted, or the reverse.
        toml_text = "5" if shape(field) != "scalar" else "[1, 2]"
        if shape(field) in ("list", "mapping", "groups"):
            toml_text = "{ a = 1 }" if shape(field) == "list" else "[1, 2]"
        table.append(Mistake(name, "wrong type", "toml", toml_text))
        if variable(name).startswith("AMD_"):
            table += [Mistake(name, "misspelled name", place, '"x"') for place in PLACES]
    return table


def write(mistake: Mistake, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the mistake where it belongs; the name the message must use."""
    name = variable(mistake.setting)
    key = mistake.setting
    if mistake.kind == "misspelled name":
        name, key = "AMD_" + _typo(name.removeprefix("AMD_")), _typo(key)
    if mistake.place == "env":
        monkeypatch.setenv(name, mistake.text)
        return name
    if mistake.place == "dotenv":
        (tmp / ".env").write_text(f"{name}='{mistake.text}'\n")
        return name
    (tmp / "amd.toml").write_text(f"{key} = {mistake.text}\n")
    monkeypatch.setenv("AMD_CONFIG", str(tmp / "amd.toml"))
    return key


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No AMD_/SLACK_/DBT_ variable of the developer's, and a working directory of the test's own."""
    for name in list(os.environ):
        if name.upper().startswith(("AMD_", "SLACK_", "DBT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        cli.main(argv)
    code = ended.value.code
    said = capsys.readouterr()
    return (code if isinstance(code, int) else 1), said.err + said.out  # the doctor answers on stdout


@pytest.mark.parametrize("mistake", mistakes(), ids=str)
def test_every_setting_mistake_exits_2_naming_it(
    mistake: Mistake, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    written = write(mistake, clean, monkeypatch)
    # A misspelled name is refused where it matters most: serving Slack (the console only warns).
    argv = ["serve"] if mistake.kind == "misspelled name" else ["console", "-c", "/amd help"]

    code, err = run_main(argv, capsys)

    assert code == 2, err
    assert written in err, err
    assert "Traceback" not in err
    if mistake.kind == "misspelled name":
        right = variable(mistake.setting) if mistake.place != "toml" else mistake.setting
        assert f"did you mean {right}?" in err, err
    else:
        assert "Expected " in err and ", e.g. " in err, err
        if mistake.place == "toml":
            assert str(clean / "amd.toml") in err


def test_the_table_covers_every_setting() -> None:
    covered = {m.setting for m in mistakes()}
    assert covered == set(Settings.model_fields)
    lists = [n for n, f in Settings.model_fields.items() if shape(f) != "scalar"]
    assert {"help_channels", "alert_dags", "owners", "groups", "access", "alert_routes"} <= set(lists)


@pytest.mark.parametrize("place", ["env", "dotenv", "toml"])
def test_lists_and_mappings_are_written_as_people_write_them(
    place: str, clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "AMD_ALERT_DAGS": "flaky_*,hourly_fx",
        "AMD_HELP_CHANNELS": "C0HELP, C0DATA",
        "AMD_OWNERS": "payments-team=S0PAY,data-platform=U0MARIA",
        "AMD_GROUPS": "S0PAY=U1,U2,S0OPS=U3",
        "AMD_ADMINS": '["U0ADMIN"]',
    }
    if place == "toml":  # the same text is accepted as a TOML string
        lines = [f"{k.removeprefix('AMD_').lower()} = {json.dumps(v)}" for k, v in values.items()]
        (clean / "amd.toml").write_text("\n".join(lines) + "\n")
        (clean / ".env").write_text(f"AMD_CONFIG={clean / 'amd.toml'}\n")  # AMD_CONFIG from .env counts
    elif place == "dotenv":
        (clean / ".env").write_text("".join(f"{k}='{v}'\n" for k, v in values.items()))
    else:
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    settings, unknown = load()

    assert unknown == []
    assert settings.alert_dags == ["flaky_*", "hourly_fx"]
    assert settings.help_channels == ["C0HELP", "C0DATA"]
    assert settings.owners == {"payments-team": "S0PAY", "data-platform": "U0MARIA"}
    assert settings.groups == {"S0PAY": ["U1", "U2"], "S0OPS": ["U3"]}
    assert settings.admins == ["U0ADMIN"]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        (
            {"AMD_ORCHESTRATOR": "airflow"},
            ["AMD_AIRFLOW_URL", "AMD_AIRFLOW_USERNAME", "AMD_AIRFLOW_PASSWORD"],
        ),
        ({"AMD_ORCHESTRATOR": "airflow", "AMD_AIRFLOW_URL": "http://af:8080"}, ["AMD_AIRFLOW_PASSWORD"]),
        ({"AMD_ORCHESTRATOR": "composer"}, ["AMD_COMPOSER_ENVIRONMENT"]),
        (
            {"AMD_WAREHOUSE": "snowflake"},
            ["AMD_SNOWFLAKE_ACCOUNT", "AMD_SNOWFLAKE_USER", "AMD_SNOWFLAKE_PASSWORD"],
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"]),
    ],
)
def test_an_incomplete_choice_names_everything_missing_at_once(
    variables: dict[str, str],
    named: list[str],
    clean: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in variables.items():
        monkeypatch.setenv(key, value)

    code, err = run_main(["console", "-c", "/amd help"], capsys)

    assert code == 2
    assert all(name in err for name in named), err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("argv", [["serve"], ["serve", "--http"]])
def test_serving_slack_without_its_tokens_names_them_all(
    argv: list[str], clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(argv, capsys)

    assert code == 2
    assert "SLACK_BOT_TOKEN" in err
    assert ("SLACK_SIGNING_SECRET" if "--http" in argv else "SLACK_APP_TOKEN") in err


@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_a_config_file_that_is_not_there_is_an_error(
    where: str, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "env":
        monkeypatch.setenv("AMD_CONFIG", "amd.toml")
    else:
        (clean / ".env").write_text("AMD_CONFIG=amd.toml\n")

    code, err = run_main(["doctor"], capsys)

    assert code == 2
    assert "AMD_CONFIG" in err and "amd.toml" in err and "does not exist" in err


def test_a_config_file_that_is_not_toml_says_where(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (clean / "amd.toml").write_text("[[access]\naction = 'run:*'\n")
    monkeypatch.setenv("AMD_CONFIG", "amd.toml")

    code, err = run_main(["console", "-c", "/amd help"], capsys)

    assert code == 2
    assert "amd.toml is not valid TOML" in err and "line 1" in err


def test_a_misspelled_name_is_a_warning_in_the_console(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMD_WAREHOSE", "snowflake")
    (clean / "amd.toml").write_text('acces_open = true\ncommand = "/amd"\n')
    (clean / ".env").write_text("AMD_CONFIG=amd.toml\n")

    settings, unknown = load()

    assert settings.warehouse == "duckdb"
    assert unknown == [
        "AMD_WAREHOSE (in the environment) is not a setting; did you mean AMD_WAREHOUSE?",
        "acces_open (in amd.toml) is not a setting; did you mean access_open?",
    ]


def test_the_doctor_turns_a_configuration_mistake_into_fail_lines(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AMD_ORCHESTRATOR", "airflow")
    monkeypatch.setenv("AMD_AIRFLOW_URL", "http://127.0.0.1:9")

    with pytest.raises(SystemExit) as ended:
        cli.main(["doctor"])

    out = capsys.readouterr().out
    assert ended.value.code == 2
    assert out.splitlines()[0].startswith("FAIL settings")
    assert "AMD_AIRFLOW_USERNAME and AMD_AIRFLOW_PASSWORD" in out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "migrate", "--rate", "-5"],
        ["demo", "migrate", "--rate", "0"],
        ["demo", "migrate", "--fail-after", "x"],
        ["console", "--wait", "-1"],
        ["console", "--wait", "nan"],
        ["serve", "--port", "70000"],
        ["migration", "report", "--name", "m", "--source", "s", "--chunk", "c", "--rows", "-1"],
    ],
)
def test_command_line_numbers_are_checked_like_settings(
    argv: list[str], clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_main(argv, capsys)

    assert code == 2
    assert f"argument {argv[-2]}: '{argv[-1]}' is not a" in err, err


# A few of the same mistakes through the real program, as a user meets them.
PROCESS_CASES: list[tuple[dict[str, str], list[str], str]] = [
    ({"AMD_ALERT_POLL_S": "abc"}, ["console", "-c", "/amd help"], "AMD_ALERT_POLL_S (in the environment)"),
    ({"AMD_HELP_CHANNELS": '{"a": 1}'}, ["doctor"], "AMD_HELP_CHANNELS"),
    (
        {"AMD_WAREHOSE": "snowflake", "AMD_ACCESS_OPEN": "true"},
        ["serve", "--http"],
        "did you mean AMD_WAREHOUSE?",
    ),
    ({"AMD_CONFIG": "missing.toml"}, ["demo", "nightly"], "missing.toml, which does not exist"),
    ({"AMD_ORCHESTRATOR": "composer"}, ["db", "current"], "AMD_COMPOSER_ENVIRONMENT"),
]


@pytest.mark.parametrize(("variables", "argv", "said"), PROCESS_CASES)
def test_the_real_program_answers_with_words(
    variables: dict[str, str], argv: list[str], said: str, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AMD_HOME": str(tmp_path / "home"), **variables}
    if "SLACK_BOT_TOKEN" not in env and argv[0] == "serve":
        env |= {"SLACK_BOT_TOKEN": "xoxb-config-test", "SLACK_SIGNING_SECRET": "config-test-signing-secret"}

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert said in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_misspelled_key_inside_a_rule_is_named_not_ignored(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ignored, `acton` would leave the rule's action at its default `*`: everything.
    (clean / "amd.toml").write_text('[[access]]\nacton = "run:amd_*"\nusers = ["S0DATA"]\n')
    monkeypatch.setenv("AMD_CONFIG", "amd.toml")

    code, err = run_main(["console", "-c", "/amd help"], capsys)

    assert code == 2
    assert "access (in amd.toml) (at 0 → acton): `acton` is not a key of it (did you mean `action`?)" in err


def test_the_variable_named_for_a_copy_jobs_token_is_not_a_misspelled_setting(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AMD_MIGRATION_TOKEN", "a-token-the-job-reads-itself")  # demo/migration/README.md
    monkeypatch.setenv("AMD_HELP_CHANELS", "C0HELP")
    args = cli.parser().parse_args(
        ["demo", "migrate", "--url", "http://bot", "--token-env", "AMD_MIGRATION_TOKEN"]
    )

    cli.load_settings(args)

    err = capsys.readouterr().err
    assert "AMD_MIGRATION_TOKEN" not in err
    assert (
        "warning: AMD_HELP_CHANELS (in the environment) is not a setting; did you mean AMD_HELP_CHANNELS?"
        in err
    )
