"""The dev sets (tests/qa/dev.yaml, dev_2.yaml, dev_3.yaml): questions and chatter written blind by
other writers, like the held-out sets, but given to the rules to be tuned on. Their scores therefore say
less than a held-out one (README): the floors below only keep a change from undoing what was learnt from
them; the held-out sets say whether the rules generalise.

Questions are scored by the held-out rule (`right`); a line labelled `chatter` must get no reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from commands.ask.subjects import Vocabulary
from tests.test_qa_held_out import cases, replied, score
from tests.test_qa_understanding import BOT_USER, understood, vocabularies  # noqa: F401


class DevSet(NamedTuple):
    questions: int  # at least this many questions, and `chatter` chatter lines
    chatter: int
    # The scores when last tuned, less a small margin (a floor against regressions, not a target).
    questions_floor: float
    silent_floor: float


DEV_SETS = {
    "dev": DevSet(200, 80, 0.94, 0.98),
    # dev_2 was first scored on the rules as they were: 80.5 % right (178 of 221), chatter 95.6 % silent
    # (65 of 68); after tuning 99.1 % (219 of 221), chatter 98.5 % (67 of 68).
    "dev_2": DevSet(200, 60, 0.97, 0.97),
    # dev_3 was first scored on the rules as they were: 87.9 % right (196 of 223), chatter 90.6 % silent
    # (77 of 85); after tuning 97.8 % (218 of 223), chatter 98.8 % (84 of 85).
    "dev_3": DevSet(220, 80, 0.96, 0.97),
    # dev_4 and dev_5 were first scored on the rules with the learned second opinion, before joining its
    # training data: dev_4 87.9 % right (189 of 215), chatter 92.9 % silent (79 of 85); dev_5 78.6 %
    # (165 of 210), chatter 91.6 % (76 of 83). Trained on: dev_4 93.5 %, 100 %; dev_5 86.2 %, 96.4 %.
    "dev_4": DevSet(200, 80, 0.92, 0.97),
    "dev_5": DevSet(200, 80, 0.88, 0.93),
    # dev_6 to dev_9, first scored the same way before joining the training data (dev_6 and dev_7 on
    # 817f927, dev_8 and dev_9 on b779580): 87.6 % and 96.3 % chatter silent, 86.4 % and 95.3 %, 91.1 % and
    # 95.1 %, 88.4 % and 97.6 %. Trained on: 92.4 %, 100 %; 91.0 %, 100 %; 93.4 %, 95.1 %; 90.2 %, 97.6 %.
    "dev_6": DevSet(200, 80, 0.92, 0.97),
    "dev_7": DevSet(200, 80, 0.90, 0.97),
    "dev_8": DevSet(200, 80, 0.93, 0.92),
    "dev_9": DevSet(200, 80, 0.90, 0.95),
    # dev_10 and dev_11, first scored on dc3a7f4: 89.7 % and 94.0 % chatter silent; 86.3 % and 95.1 %.
    # Trained on: 93.8 %, 95.2 %; 90.9 %, 97.5 %.
    "dev_10": DevSet(200, 80, 0.91, 0.92),
    "dev_11": DevSet(200, 80, 0.88, 0.95),
    # dev_12 and dev_13, first scored on c9f3dc4: 80.4 % and 95.6 % chatter silent; 84.9 % and 98.9 %.
    # Trained on: 88.1 %, 95.6 %; 90.1 %, 100 %.
    "dev_12": DevSet(220, 85, 0.86, 0.93),
    "dev_13": DevSet(220, 85, 0.88, 0.97),
    # dev_14 (messy Slack: markup, pasted logs, abbreviations) and dev_15 (specialists who describe the data
    # instead of naming it), first scored on af7d810: 83.5 % and 98.9 % chatter silent; 63.7 % and 88.4 %.
    # Trained on: 93.5 %, 100 %; 83.2 %, 97.9 % (after the sixth round: 95.0 %, 84.8 %).
    "dev_14": DevSet(220, 85, 0.91, 0.97),
    "dev_15": DevSet(220, 85, 0.81, 0.95),
    # dev_16 (past moments, updates, several asks at once) and dev_17 (people outside the data team, in
    # business words), first scored on d15a4aa: 86.4 % and 98.9 % chatter silent; 80.1 % and 97.8 %.
    # Trained on: 95.8 %, 100 %; 93.8 %, 98.9 %.
    "dev_16": DevSet(185, 85, 0.93, 0.97),
    "dev_17": DevSet(170, 85, 0.92, 0.96),
    # dev_18 (a multinational team writing in French, Portuguese, Spanish, German, Italian, Dutch, Polish and
    # Turkish around English table names) and dev_19 (the morning after a bad night: overall questions, whys,
    # competing cues), first scored on 45b08d2: 48.0 % and 97.8 % chatter silent; 90.1 % and 97.8 %.
    # Trained on, after the seventh round: 91.9 %, 100 %; 97.0 %, 100 %.
    "dev_18": DevSet(190, 85, 0.90, 0.97),
    "dev_19": DevSet(195, 85, 0.95, 0.97),
    # dev_20 (a second team asking in eight languages, written after commands/ask/glossary.py), first scored
    # on 62d1cab: 74.9 % and 100 % chatter silent (44.9 % and 98.9 % on the commit before the glossary).
    # Trained on: 89.4 %, 100 %.
    "dev_20": DevSet(195, 85, 0.87, 0.97),
    # dev_21 (messages as posted: context first, pasted errors, data described, requests mixed in), first
    # scored on 8980fa7: 82.8 % and 97.8 % chatter silent. Trained on: 86.3 %, 98.9 %.
    "dev_21": DevSet(195, 85, 0.84, 0.97),
    # dev_22 and dev_23 (two general sets, written as a held-out set would be, by two new blind writers),
    # first scored on 4537d52: 92.3 % and 99.0 % chatter silent; 88.4 % and 95.8 %. Trained on, after the
    # eighth round's rules: 95.0 %, 99.0 %; 94.8 %, 98.9 %.
    "dev_22": DevSet(215, 90, 0.93, 0.97),
    "dev_23": DevSet(225, 90, 0.92, 0.97),
    # dev_24 (month-end close week) and dev_25 (a Wednesday with a release going out), two more general sets
    # by two new blind writers, first scored on 7afb6a5: 91.8 % and 98.9 % chatter silent; 89.7 % and
    # 96.7 %. After the eighth round's rules 94.1 % and 92.6 %; trained on: 96.8 %, 100 %; 95.1 %, 100 %.
    "dev_24": DevSet(215, 90, 0.95, 0.97),
    "dev_25": DevSet(200, 90, 0.93, 0.97),
    # dev_26 (an ordinary Thursday and Friday) and dev_27 (a month-end week), two general sets by two new
    # blind writers, first scored on 3a11ec7: 87.7 % and 100 % chatter silent; 86.8 % and 99.0 %. After the
    # ninth round's rules, left out of the model's data, 94.7 % and 92.5 %; trained on: 97.4 %, 100 %;
    # 93.8 %, 100 %.
    "dev_26": DevSet(220, 95, 0.95, 0.97),
    "dev_27": DevSet(220, 95, 0.92, 0.97),
    # dev_28 (an ordinary Monday and Tuesday) and dev_29 (a week with an audit and a launch), two more general
    # sets by two new blind writers, first scored on 4fd5085: 94.3 % and 100 % chatter silent; 92.1 % and
    # 98.1 %. After the tenth round's rules 96.0 % and 93.8 %; trained on: 97.8 %, 100 %; 96.0 %, 99.0 %.
    "dev_28": DevSet(220, 95, 0.96, 0.97),
    "dev_29": DevSet(220, 95, 0.94, 0.97),
    # dev_30 (an ordinary Wednesday and Thursday) and dev_31 (a week new colleagues joined), by two new blind
    # writers, first scored on 31e540d: 92.6 % and 99.0 % chatter silent; 95.2 % and 98.0 %. After the
    # eleventh round's rules 95.7 % and 97.4 %; trained on: 97.8 %, 100 %; 97.8 %, 100 %.
    "dev_30": DevSet(220, 95, 0.96, 0.97),
    "dev_31": DevSet(220, 95, 0.96, 0.97),
    # dev_32 (an ordinary Friday and the Monday after) and dev_33 (a week with a data incident and a team
    # reorganisation), by two new blind writers, first scored on 9e211e1: 93.7 % and 100 % chatter silent;
    # 96.9 % and 98.0 %. After the twelfth round's rules, left out of the model's data, 99.2 % and 98.2 %;
    # trained on: 99.6 %, 100 %; 98.7 %, 99.0 %.
    "dev_32": DevSet(230, 100, 0.97, 0.97),
    "dev_33": DevSet(220, 100, 0.96, 0.97),
    # dev_34 (a Tuesday and Wednesday with a release freeze) and dev_35 (a week the address-history
    # migration was finishing), by two new blind writers, first scored on 9435fd8: 92.8 % and 98.0 % chatter
    # silent; 95.2 % and 97.1 %. After the thirteenth round's rules, left out of the model's data, 95.3 % and
    # 96.5 %; trained on: 96.2 %, 98.0 %; 98.2 %, 99.0 %.
    "dev_34": DevSet(230, 100, 0.94, 0.97),
    "dev_35": DevSet(220, 100, 0.96, 0.97),
    # dev_36 (the first week back after the holidays) and dev_37 (a quarter-end week with audit requests), by
    # two new blind writers, first scored on 4be6240: 90.1 % and 99.0 % chatter silent; 91.6 % and 96.1 %.
    # After the fourteenth round's rules, left out of the model's data, 93.6 % and 95.8 %; trained on:
    # 95.3 %, 99.0 %; 97.9 %, 99.0 % (100 % and 100 % chatter silent after the fifteenth).
    "dev_36": DevSet(225, 100, 0.94, 0.97),
    "dev_37": DevSet(230, 100, 0.96, 0.97),
    # dev_38 (a sales week with volume spikes) and dev_39 (summer holidays: a stand-in on call, several
    # languages, the harbour project's first production week), by two new blind writers, first scored on
    # 072f3ec: 95.4 % and 95.1 % chatter silent; 94.0 % and 99.0 %. After the fifteenth round's rules, left
    # out of the model's data, 95.8 % and 96.6 %; trained on: 98.3 %, 100 %; 97.9 %, 100 %.
    "dev_38": DevSet(230, 100, 0.96, 0.97),
    "dev_39": DevSet(225, 100, 0.96, 0.97),
    # dev_40 (an incident day: a slow warehouse, retried DAGs, managers asking for summaries) and dev_41 (a
    # new team trying the bot out, vague and playful questions, requests it must decline), by two new blind
    # writers, first scored on c0ba09c: 92.3 % and 100 % chatter silent; 93.6 % and 99.0 %. After the
    # sixteenth round's rules, left out of the model's data, 94.0 % and 94.8 %; trained on: 96.1 %, 100 %;
    # 96.1 %, 100 %.
    "dev_40": DevSet(225, 100, 0.94, 0.97),
    "dev_41": DevSet(225, 100, 0.94, 0.97),
    # dev_42 (an external audit, a deploy freeze, Airflow 3 on Composer) and dev_43 (Black Friday week:
    # volume spikes, late DAGs, support flooded with address complaints), by two new blind writers, first
    # scored on 2e24ac7: 94.4 % and 99.0 % chatter silent; 91.9 % and 98.1 %. After the seventeenth round's
    # rules, left out of the model's data, 96.2 % and 94.9 %; trained on: 96.2 %, 100 %; 97.0 %, 100 %.
    "dev_42": DevSet(230, 100, 0.94, 0.97),
    "dev_43": DevSet(230, 100, 0.95, 0.97),
    # dev_44 (the Monday after a daylight-saving change: runs twice or not at all, times and time zones) and
    # dev_45 (an offsite week: a skeleton crew, other departments asking in business words), by two new
    # blind writers, first scored on f277020: 95.3 % and 100 % chatter silent; 94.4 % and 98.1 %. After the
    # eighteenth round's rules, left out of the model's data, 97.4 % and 96.2 %; trained on: 98.7 %, 100 %;
    # 97.0 %, 100 %.
    "dev_44": DevSet(230, 100, 0.96, 0.97),
    "dev_45": DevSet(230, 100, 0.95, 0.97),
    # dev_46 (a new office abroad joins: people asking the bot for the first time, a failing test nobody
    # owns yet) and dev_47 (a campaign launch, a migration cut-over, an auditor, harbour going live), by two
    # new blind writers, first scored on d7e7ee3: 97.0 % and 97.1 % chatter silent; 96.6 % and 97.1 %.
    # After the nineteenth round's rules, left out of the model's data, 98.7 % and 99.6 %; trained on:
    # 100 %, 99.0 %; 99.6 %, 100 %.
    "dev_46": DevSet(230, 100, 0.97, 0.97),
    "dev_47": DevSet(230, 100, 0.97, 0.97),
    # dev_48 (a summer fortnight: interns, a hackathon, a night's loader outage, messages typed on phones)
    # and dev_49 (a regulator's data-quality review: long careful questions, a payment backfill), by two new
    # blind writers, first scored on 4e2dc13: 95.3 % and 96.2 % chatter silent; 94.9 % and 100 %. After the
    # twentieth round's rules, left out of the model's data, 97.9 % and 97.9 %; trained on: 97.9 %, 100 %;
    # 98.3 %, 100 %.
    "dev_48": DevSet(230, 100, 0.96, 0.97),
    "dev_49": DevSet(230, 100, 0.96, 0.97),
    # dev_50 (a holiday fortnight in August: interns, a flapping payment test, a migration's validation)
    # and dev_51 (an incident-heavy week: a Composer upgrade, duplicated events, auditors, phones), by two
    # new blind writers, first scored on 4f82b1b: 94.9 % and 99.0 % chatter silent; 94.0 % and 98.0 %.
    # After the twenty-first round's rules, left out of the model's data, 98.3 % and 97.9 %; trained on:
    # 98.7 %, 100 %; 99.6 %, 100 %.
    "dev_50": DevSet(230, 100, 0.97, 0.97),
    "dev_51": DevSet(230, 100, 0.97, 0.97),
    # dev_52 (a Lisbon office opening, a marketing data request, the migration's BigQuery leg re-run) and
    # dev_53 (new juniors, a security review of who sees what, a flaky purchase DAG, pasted stack traces), by
    # two new blind writers, first scored on 503f715: 95.7 % and 99.0 % chatter silent; 94.4 % and 99.0 %.
    # After the twenty-second round's rules, left out of the model's data, 97.0 % and 98.3 %; trained on:
    # 97.9 %, 100 %; 98.7 %, 99.0 %.
    "dev_52": DevSet(230, 100, 0.97, 0.97),
    "dev_53": DevSet(230, 100, 0.97, 0.97),
    # dev_54 (a hackathon week: people from outside data, two scheduler restarts, a paused MongoDB leg) and
    # dev_55 (Black Friday week: spiking purchases, hourly revenue checks, German, Spanish and Hindi), by
    # two new blind writers, first scored on 2f15801: 96.2 % and 96.1 % chatter silent; 94.4 % and 99.0 %.
    # After the twenty-third round's rules, left out of the model's data, 97.4 % and 99.0 %; 98.3 % and
    # 100 %; trained on: 97.4 %, 100 %; 98.3 %, 100 %.
    "dev_54": DevSet(230, 100, 0.97, 0.97),
    "dev_55": DevSet(230, 100, 0.97, 0.97),
    # dev_56 (a July of holidays, an office move and a BI tool trial) and dev_57 (December: Secret Santa,
    # the office party, holiday on-call swaps), chatter-heavy (180 chatter lines each, a fifth of them
    # mentioning the bot), by two new blind writers, first scored on 6268c7f: 96.8 % and 80.6 % chatter
    # silent; 98.1 % and 81.1 %. After the twenty-fourth round's rules, left out of the model's data, 98.1 %
    # and 89.4 %; 98.1 % and 91.1 %; trained on: 98.1 %, 93.3 %; 98.1 %, 93.3 %.
    "dev_56": DevSet(150, 170, 0.97, 0.92),
    "dev_57": DevSet(150, 170, 0.97, 0.92),
    # dev_58 (a product squad new to dbt, a new Composer environment, broken dashboards) and dev_59 (a partner
    # bank's new payment source, courier escalations, an audit of the address history, phones), written in
    # business words and unusual phrasings ("signups?", "my checkout funnel just ends at 04:00"), by two
    # new blind writers, first scored on 2b505c4: 91.0 % and 100 % chatter silent; 87.2 % and 100 %. After
    # the twenty-fifth round's rules, left out of the model's data, 92.7 % and 89.3 %, chatter 100 %; trained
    # on: 95.7 %, 100 %; 91.9 %, 100 %.
    "dev_58": DevSet(230, 100, 0.94, 0.97),
    "dev_59": DevSet(230, 100, 0.90, 0.97),
    # dev_60 (a fortnight of chatter close to the data: work updates, plans, thread replies, jokes about
    # stale data) and dev_61 (a buy-now-pay-later team's week, questions in business words), by two new
    # blind writers, first scored on 05e92f6: 94.9 % and 92.2 % chatter silent; 95.7 % and 97.1 %. After
    # the twenty-sixth round's rules, left out of the model's data, 97.0 % and 98.0 %; 97.4 % and 100 %;
    # trained on: 98.3 %, 100 %; 98.3 %, 100 %.
    "dev_60": DevSet(230, 100, 0.97, 0.97),
    "dev_61": DevSet(230, 100, 0.97, 0.97),
    # dev_62 (a February week: indirect questions, long context, thread follow-ups that name their subject)
    # and dev_63 (a March week: data words in everyday senses among the chatter, short terse questions), by
    # two new blind writers, first scored on 2c425d0: 95.3 % and 98.0 % chatter silent; 93.6 % and 100 %.
    # After the twenty-seventh round's rules, left out of the model's data, 96.6 % and 100 %; 95.7 % and
    # 100 %; trained on: 97.0 %, 100 %; 97.9 %, 100 %.
    "dev_62": DevSet(230, 100, 0.96, 0.97),
    "dev_63": DevSet(230, 100, 0.96, 0.97),
}


def _split(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = cases(Path(__file__).parent / "qa" / f"{name}.yaml")
    assert all(c[name] for c in rows)
    return [c for c in rows if c["intent"] != "chatter"], [c for c in rows if c["intent"] == "chatter"]


@pytest.mark.parametrize("name", DEV_SETS)
def test_the_dev_set_is_labelled_and_apart(name: str) -> None:
    questions, chatter = _split(name)
    assert len(questions) >= DEV_SETS[name].questions and len(chatter) >= DEV_SETS[name].chatter


@pytest.mark.parametrize("name", DEV_SETS)
def test_dev_questions(name: str, vocabularies: dict[str, Vocabulary]) -> None:  # noqa: F811
    questions, _ = _split(name)
    accuracy, misses = score(questions, vocabularies)
    print(f"\n{name}: {accuracy:.1%} of {len(questions)}\n" + "\n".join(misses))
    assert accuracy >= DEV_SETS[name].questions_floor, f"{accuracy:.1%}\n" + "\n".join(misses)


@pytest.mark.parametrize("name", DEV_SETS)
def test_dev_chatter_gets_no_reply(name: str, vocabularies: dict[str, Vocabulary]) -> None:  # noqa: F811
    _, chatter = _split(name)
    answered = [c["q"] for c in chatter if replied(c, vocabularies["demo"])]
    silent = 1 - len(answered) / len(chatter)
    listed = "\n".join(f"  {q!r}" for q in answered)
    print(f"\n{name} chatter: {silent:.1%} silent of {len(chatter)}\n{listed}")
    assert silent >= DEV_SETS[name].silent_floor, f"{silent:.1%}: {answered}"
