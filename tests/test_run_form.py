"""Issue 20: the run form, built from the DAG's params, as a Slack modal and as questions in the console.

Slack: `/amd run <dag>` opens the modal with the command's trigger_id (FakeSlack checks the view as
views.open does), a submission with a wrong value is answered at its input (`response_action: errors`)
and makes no confirmation, a valid one gets the usual confirmation. The console asks the same inputs
one by one. On the real Airflows, what the form sends is exactly the run's conf.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.foundation.access_rules import AccessRule
from bot.foundation.ports import DagParam
from bot.foundation.settings import Settings
from bot.render.slack_form import read_metadata, to_view
from commands.run.form import FROM, LOGICAL_DATE, TO, FormState, digest, read_submission, run_form
from tests.slack_fake.blocks import validate_view
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot, sign
from tests.support.golden import assert_golden
from tests.test_cmd_run import Shell, airflow_settings, confirmations
from tests.test_run_params import AMD_PARAMS

MOMENT = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def amd_params_view() -> dict[str, Any]:
    state = FormState("f0123456789abcde", "amd_params", "U1", "C1", digest(AMD_PARAMS))
    intro = "Run `amd_params` in airflow: http://airflow.example."
    form = run_form(state, AMD_PARAMS, conf={}, logical_date=MOMENT, intro=intro)
    return to_view(form, channel="C1")


def test_every_param_type_becomes_its_input_and_the_modal_is_one_slack_accepts() -> None:
    view = amd_params_view()

    assert validate_view(view) == []
    assert_golden("run_form_modal.json", view)
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert {k: b["element"]["type"] for k, b in inputs.items()} == {
        "in:label": "plain_text_input",
        "in:batch": "number_input",
        "in:ratio": "number_input",
        "in:full_refresh": "checkboxes",
        "in:region": "static_select",
        "in:entities": "multi_static_select",
        "in:as_of": "datepicker",
        "in:vars": "plain_text_input",
        f"in:{LOGICAL_DATE}": "datetimepicker",
    }
    batch = inputs["in:batch"]["element"]
    assert (batch["min_value"], batch["max_value"], batch["initial_value"]) == ("1", "10", "3")
    assert inputs["in:label"]["element"]["min_length"] == 3
    assert inputs["in:region"]["element"]["initial_option"]["text"]["text"] == "Europe"
    assert inputs["in:vars"]["element"]["multiline"] is True
    assert inputs[f"in:{LOGICAL_DATE}"]["element"]["initial_date_time"] == int(MOMENT.timestamp())
    assert inputs["in:batch"]["hint"]["text"] == "Batches to load"
    assert read_metadata(view["private_metadata"])[0] == "C1"


def test_a_select_of_150_values_lists_100_and_says_so_and_120_params_fit_in_100_blocks() -> None:
    many = DagParam("code", "v0", None, {"type": "string", "enum": [f"v{i}" for i in range(150)]})
    params = [many, *(DagParam(f"p{i}", i, None, {"type": "integer"}) for i in range(120))]
    state = FormState("f1", "wide", "U1", "C1", digest(params))

    view = to_view(run_form(state, params, conf={}, logical_date=MOMENT, intro=""), channel="C1")

    assert validate_view(view) == []
    assert len(view["blocks"]) == 100
    code = view["blocks"][0]
    assert len(code["element"]["options"]) == 100
    assert code["hint"]["text"] == "50 of 150 values are not listed; give one as `key=value`."
    assert "params are not in this form" in view["blocks"][-1]["elements"][0]["text"]


def test_a_scheduled_dags_form_has_optional_backfill_days_slack_accepts() -> None:
    state = FormState("f2", "amd_params", "U1", "C1", digest(AMD_PARAMS), days=True)
    intro = "Run `amd_params` in airflow: http://airflow.example."

    view = to_view(run_form(state, AMD_PARAMS, conf={}, logical_date=MOMENT, intro=intro), channel="C1")

    assert validate_view(view) == []
    assert_golden("run_form_backfill_modal.json", view)
    days = [b for b in view["blocks"] if b.get("block_id") in (f"in:{FROM}", f"in:{TO}")]
    assert [(b["label"]["text"], b["element"]["type"], b["optional"]) for b in days] == [
        ("Backfill from", "datepicker", True),
        ("Backfill to", "datepicker", True),
    ]


async def a_scheduled_run(bot: BotHarness, dag: str) -> None:
    """What the demo's nightly schedule makes (demo/nightly.py): after it, the DAG is a scheduled one."""
    await bot.backends.orchestrator.trigger(
        dag, "scheduled__2026-09-30", {}, datetime(2026, 9, 30, tzinfo=UTC)
    )


# --- over Slack ---------------------------------------------------------------------------------------


def submission(bot: BotHarness, view: dict[str, Any], values: dict[str, Any], *, user: str = "U1") -> bytes:
    """A view_submission as Slack posts it: the opened view with the person's `values` in its state."""
    state = {f"in:{name}": {"value": element} for name, element in values.items()}
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "fintech"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "unused-legacy-verification-token",
        "trigger_id": bot.slack.new_trigger_id(),
        "view": {**view, "state": {"values": state}},
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


async def submit(bot: BotHarness, view: dict[str, Any], values: dict[str, Any], **who: str) -> dict[str, Any]:
    body = submission(bot, view, values, **who)
    started = time.monotonic()
    status, answer = await bot.post(body, sign(body))
    assert status == 200
    assert time.monotonic() - started < 3  # Slack's limit for answering a submission
    return json.loads(answer) if answer else {}


def user_form_values(vars_text: str) -> dict[str, Any]:
    return {
        "full_refresh": {"type": "checkboxes", "selected_options": [{"value": "true"}]},
        "vars": {"type": "plain_text_input", "value": vars_text},
        LOGICAL_DATE: {"type": "datetimepicker", "selected_date_time": int(MOMENT.timestamp())},
    }


@pytest.mark.slow
async def test_over_slack_the_form_opens_wrong_values_are_answered_at_their_inputs_and_a_valid_one_asks(
    bot: BotHarness,
) -> None:
    reply = await bot.slash("/amd run user", user="U1", channel="C1")
    (opened,) = await bot.slack.wait_for("views.open")
    view = opened.response["view"]
    assert view["title"]["text"] == "Run amd_user"
    assert "`amd_user` (entity `user`)" in view["blocks"][0]["text"]["text"]

    wrong = await submit(bot, view, user_form_values('{"day": '))
    assert wrong["response_action"] == "errors"
    assert wrong["errors"]["in:vars"].startswith("Not JSON: ")
    not_object = await submit(bot, view, user_form_values("[1, 2]"))
    assert not_object["errors"] == {"in:vars": "[1, 2] is not of type 'object'."}
    huge = await submit(bot, view, user_form_values(json.dumps({"k": "x" * 10_000})))
    assert huge["errors"] == {"in:vars": "Too long: at most 4,096 bytes."}
    assert await confirmations(bot) == []

    assert await submit(bot, view, user_form_values('{"day": 1}')) == {}  # closes the modal
    (asked,) = await bot.slack.wait_for("chat.postEphemeral")
    assert asked.args["user"] == "U1"
    assert asked.args["channel"] == "C1"
    assert "Trigger amd_user?" in json.dumps(asked.args["blocks"])
    (row,) = await confirmations(bot)
    assert row["conf"] == {"full_refresh": True, "vars": {"day": 1}}
    assert row["logical_date"].replace(tzinfo=UTC) == MOMENT

    assert await submit(bot, view, user_form_values('{"day": 2}')) == {}
    (_, again) = await bot.slack.wait_for("chat.postEphemeral", 2)
    assert "submitted already" in json.dumps(again.args)
    assert len(await confirmations(bot)) == 1
    assert reply.status == 200


async def test_a_form_submitted_by_someone_else_or_after_its_params_changed_asks_nothing(
    bot: BotHarness,
) -> None:
    await bot.slash("/amd run user", user="U1", channel="C1")
    (opened,) = await bot.slack.wait_for("views.open")
    view = opened.response["view"]

    assert await submit(bot, view, user_form_values("{}"), user="U2") == {}
    (refused,) = await bot.slack.wait_for("chat.postEphemeral")
    assert "Only <@U1>, who opened this form, can submit it." in json.dumps(refused.args)

    channel, raw = read_metadata(view["private_metadata"])
    stale = replace(FormState.load(raw), params="0" * 16)
    old_view = {**view, "private_metadata": json.dumps({"channel": channel, "state": stale.dump()})}
    changed = await submit(bot, old_view, user_form_values("{}"))
    assert "params changed since this form opened" in changed["errors"][f"in:{LOGICAL_DATE}"]
    assert await confirmations(bot) == []


def day_values(first: str | None, last: str | None) -> dict[str, Any]:
    return {
        **user_form_values("{}"),
        FROM: {"type": "datepicker", "selected_date": first},
        TO: {"type": "datepicker", "selected_date": last},
    }


async def test_over_slack_the_forms_days_make_a_backfill_by_the_same_confirmation_and_access(
    bot_settings: Settings,
) -> None:
    rules = [
        AccessRule(action="run*:amd_user", users=["U1"]),
        AccessRule(action="run.form:amd_user", users=["U2"]),
    ]
    async with running_bot(bot_settings.model_copy(update={"access": rules})) as bot:
        await a_scheduled_run(bot, "amd_user")
        await bot.slash("/amd run user", user="U1", channel="C1")
        (opened,) = await bot.slack.wait_for("views.open")
        view = opened.response["view"]
        assert f"in:{FROM}" in {b.get("block_id") for b in view["blocks"]}

        half = await submit(bot, view, day_values("2026-10-01", None))
        assert half["errors"] == {f"in:{TO}": "A backfill needs both days (or neither: one run)."}
        backwards = await submit(bot, view, day_values("2026-10-07", "2026-10-01"))
        assert backwards["errors"] == {f"in:{TO}": "The last day is before the first."}
        too_many = await submit(bot, view, day_values("2026-01-01", "2026-10-01"))
        assert too_many["errors"][f"in:{FROM}"].startswith("That is 274 days; a backfill takes at most 100")
        assert await confirmations(bot) == []

        # Days no other test runs: the demo's local runs are shared by the session's tests.
        assert await submit(bot, view, day_values("2026-08-11", "2026-08-12")) == {}
        (asked,) = await bot.slack.wait_for("chat.postEphemeral")
        assert "Backfill amd_user?" in json.dumps(asked.args["blocks"])
        assert "2026-08-11 → 2026-08-12: 2 days, 2 new runs" in json.dumps(asked.args, ensure_ascii=False)
        (row,) = await confirmations(bot)
        assert (row["kind"], row["conf"]) == ("backfill", {"full_refresh": True, "vars": {}})

        # U2 may submit the form but not backfill: the days are refused at their input.
        channel, raw = read_metadata(view["private_metadata"])
        theirs = replace(FormState.load(raw), form="f-u2", requester="U2")
        their_view = {**view, "private_metadata": json.dumps({"channel": channel, "state": theirs.dump()})}
        refused = await submit(bot, their_view, day_values("2026-08-11", "2026-08-12"), user="U2")
        assert refused["errors"][f"in:{FROM}"].startswith(
            "You may not backfill `amd_user` here: no rule allows"
        )
        assert len(await confirmations(bot)) == 1


# --- in the console -----------------------------------------------------------------------------------


async def fill(shell: Shell, answers: dict[str, str]) -> str:
    """Answer the console's form questions by input name, until the form is submitted once."""
    out = ""
    while (form := shell.console.surface.form) is not None:
        last = len(form.pending) == 1
        out += await shell(answers.get(form.pending[0].name, ""))
        if last:
            return out
    return out


async def test_in_the_console_the_form_is_asked_field_by_field_and_edit_parameters_opens_it_prefilled(
    bot: BotHarness,
) -> None:
    shell = Shell(bot)
    asked = await shell("/amd run payment")
    assert "Run amd_payment (Enter keeps [the value]; a command leaves the form)" in asked
    assert "full_refresh — Rebuild incremental models from scratch\n[false]> " in asked

    out = await shell("maybe")
    assert "⚠ yes or no, please." in out
    out = await fill(shell, {"full_refresh": "yes", "vars": "{oops"})
    assert "⚠ vars: Not JSON: " in out
    out = await fill(shell, {"vars": '{"day": 1}'})
    assert "Trigger amd_payment?" in out
    assert 'Conf          `{"full_refresh": true, "vars": {"day": 1}}`' in out
    assert "[1] Trigger  [2] Cancel  [3] Edit parameters" in out

    edit = await shell("3")
    assert "[true]> " in edit  # prefilled with what the confirmation would run
    out = await fill(shell, {"full_refresh": "no"})
    assert 'Conf          `{"full_refresh": false, "vars": {"day": 1}}`' in out
    first, second = await confirmations(bot)
    assert (first["state"], second["state"]) == ("cancelled", "pending")  # the edit replaced it


async def test_in_the_console_a_scheduled_dags_form_asks_the_backfill_days_too(bot: BotHarness) -> None:
    await a_scheduled_run(bot, "amd_payment")
    shell = Shell(bot)
    asked = await shell("/amd run payment")
    assert "Run amd_payment (Enter keeps [the value]; a command leaves the form)" in asked

    wrong = await fill(shell, {FROM: "2026-10-01", TO: "2026-10"})
    assert "⚠ Backfill to: A day as YYYY-MM-DD, please." in wrong
    out = await fill(shell, {TO: "2026-10-03"})

    assert "Backfill amd_payment?" in out
    assert "2026-10-01 → 2026-10-03: 3 days, 3 new runs" in out
    assert "[1] Backfill  [2] Cancel" in out


# --- on the real Airflows -------------------------------------------------------------------------------


@pytest.mark.airflow
async def test_the_form_on_airflow_refuses_wrong_values_and_triggers_one_run_with_exactly_its_conf(
    bot_settings: Settings, server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, server)) as bot:
        shell = Shell(bot)
        before = {r.run_id for r in await bot.backends.orchestrator.latest_runs(["amd_params"], 100)}
        await shell("/amd run amd_params")
        wrong = await fill(shell, {"label": "ab", "batch": "11", "region": "2", "entities": "3, 1"})
        assert "⚠ label: 'ab' is too short." in wrong
        assert "⚠ batch: 11 is greater than the maximum of 10." in wrong
        assert await confirmations(bot) == []

        asked = await fill(shell, {"label": "weekly", "batch": "7"})
        assert "Trigger amd_params?" in asked
        await shell("1", "1")  # Trigger, pressed twice

        (row,) = await confirmations(bot)
        conf = {
            "label": "weekly",
            "batch": 7,
            "ratio": 0.5,
            "full_refresh": False,
            "region": "us",
            "entities": ["purchase", "user"],
            "as_of": "2026-11-20",
            "vars": {},
        }
        assert row["conf"] == conf
        runs = await bot.backends.orchestrator.latest_runs(["amd_params"], 100)
        assert [(r.run_id, dict(r.conf)) for r in runs if r.run_id not in before] == [
            (row["dag_run_id"], conf)
        ]


@pytest.mark.slow
async def test_re_run_with_parameters_opens_the_form_prefilled_with_the_failed_run_naming_what_it_rebuilds(
    bot: BotHarness,
) -> None:
    shell = Shell(bot)
    await shell("/amd run payment full_refresh=true", "1")  # the demo's payment fails one test
    failed = await shell.follow(240)
    assert "[1] Re-run failed tasks  [2] Re-run with parameters" in failed
    (first,) = await confirmations(bot)

    again = await shell("2")

    assert f"A new run with the conf of `{first['dag_run_id']}`; it rebuilds `payment`" in again
    assert "[true]> " in again  # full_refresh as the failed run had it
    asked = await fill(shell, {})
    assert 'Conf          `{"full_refresh": true, "vars": {}}`' in asked
    assert "Trigger amd_payment?" in asked


async def test_an_edit_after_the_confirmation_was_triggered_or_expired_starts_nothing_more(
    bot_settings: Settings,
) -> None:
    async with running_bot(bot_settings.model_copy(update={"run_confirm_ttl_s": 1.0})) as bot:
        shell = Shell(bot)
        await shell("/amd run payment full_refresh=true")
        await asyncio.sleep(1.1)
        assert "This confirmation is expired; ask again with `/amd run amd_payment`." in await shell("3")

    async with running_bot(bot_settings) as bot:
        shell = Shell(bot)
        await shell("/amd run payment full_refresh=true", "3")  # Edit parameters: the form is open
        c = (await confirmations(bot))[-1]  # the first bot's expired one is in the same store
        # Meanwhile the old confirmation's Trigger is pressed (another window, an admin).
        where = {"user": "U1", "channel": "C1", "surface": shell.surface, "clicked": None}
        await bot.router.press("run.trigger", f"{c['id']} amd_payment", **where)

        refused = await fill(shell, {"full_refresh": "no"})

        assert f"Too late to edit: @U1 triggered it already as run `{c['dag_run_id']}`" in refused
        assert [r["state"] for r in await confirmations(bot)][1:] == ["triggered"]  # no new one


async def test_a_form_submitted_after_its_confirmation_expired_asks_anew_and_the_old_one_starts_nothing(
    bot_settings: Settings,
) -> None:
    async with running_bot(bot_settings.model_copy(update={"run_confirm_ttl_s": 2.0})) as bot:
        shell = Shell(bot)
        await shell("/amd run payment full_refresh=true", "3")  # Edit parameters: the form is open
        await asyncio.sleep(2.1)  # the confirmation it edits expires meanwhile

        asked = await fill(shell, {"full_refresh": "no"})

        assert "Trigger amd_payment?" in asked  # a new confirmation, with a time of its own
        old, new = await confirmations(bot)
        assert (new["conf"]["full_refresh"], new["state"]) == (False, "pending")
        where = {"user": "U1", "channel": "C1", "surface": shell.surface, "clicked": None}
        before = len(shell.out)
        await bot.router.press("run.trigger", f"{old['id']} amd_payment", **where)
        assert "This confirmation expired at" in "".join(shell.out[before:])
        started = {r.run_id for r in await bot.backends.orchestrator.latest_runs(["amd_payment"], 100)}
        assert {old["dag_run_id"], new["dag_run_id"]}.isdisjoint(started)


def test_10_kb_in_a_text_field_is_answered_at_it_without_echoing_it() -> None:
    values = {"label": "x" * 10_000, LOGICAL_DATE: MOMENT.isoformat()}

    conf, _, days, problems = read_submission(AMD_PARAMS, values, now=MOMENT)

    assert problems == {"label": "Too long: at most 4,096 bytes."}
    assert "label" not in conf and days is None
