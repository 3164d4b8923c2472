"""The labelled questions (tests/qa/questions.yaml): the bot must understand at least 95 % of them —
the intent and the entity — on the demo project and on a team's own project (tests/projects/harbour),
and every question it must decline is declined, never answered with a fact."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.foundation.catalog import Catalog
from bot.foundation.settings import Settings
from commands.ask import learned
from commands.ask.cues import picked_intents
from commands.ask.described import described_as, descriptions
from commands.ask.engine import vocabulary
from commands.ask.intent import Question
from commands.ask.intents import INTENTS
from commands.ask.markup import plain
from commands.ask.subjects import Subjects, Vocabulary, resolve
from commands.ask.threads import follow_up
from commands.ask.understand import understand
from tests.support.examples import BOT_USER, harbour_vocabulary

QUESTIONS = Path(__file__).parent / "qa" / "questions.yaml"
REQUIRED = 0.95


def labelled() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = yaml.safe_load(QUESTIONS.read_text())
    return loaded


@pytest.fixture(scope="module")
def vocabularies(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Vocabulary]:
    demo = Catalog.load(demo_settings.manifest_path, {}, None)
    return {
        "demo": vocabulary(demo, demo_settings.migrations),
        "harbour": harbour_vocabulary(tmp_path_factory.mktemp("harbour")),
    }


def understood(case: dict[str, Any], vocab: Vocabulary) -> Question:
    return understand(plain(case["q"], bot_user=BOT_USER).text, vocab, INTENTS)


def verdict(case: dict[str, Any], question: Question) -> tuple[bool, bool]:
    """(intent right, entity right). A question to decline is declined when the reply can carry no
    fact: no intent, a refusal, or "no entity X" for a word that names nothing."""
    if case["intent"] == "decline":
        no_fact = question.intent is None or question.declined is not None
        no_fact = no_fact or (question.entity is None and question.subjects.unknown is not None)
        return no_fact, question.entity == case.get("entity")
    intent_ok = question.intent == case["intent"] and question.declined is None
    if case.get("entity"):  # a named entity is answered about; other words do not matter then
        return intent_ok, question.entity == case["entity"]
    unknown = question.subjects.unknown
    # A DAG-shaped name is looked up when answering: one the orchestrator lacks is answered "No DAG X"
    # (engine._dag_alone), except by the intents that never take a DAG for their subject.
    about_a_dag = question.intent not in ("incidents", "overall", "migrations")
    if unknown is None and about_a_dag and case.get("unknown") and question.subjects.dag == case["unknown"]:
        unknown = question.subjects.dag
    named = (question.entity, unknown, question.subjects.owner)
    return intent_ok, named == (None, case.get("unknown"), case.get("owner"))


def test_the_set_is_big_and_covers_every_intent() -> None:
    cases = labelled()
    per_intent = Counter(c["intent"] for c in cases)

    assert len(cases) >= 150
    assert set(per_intent) == {i.name for i in INTENTS} | {"decline"}
    assert min(per_intent.values()) >= 10, per_intent  # several phrasings of each
    assert sum(1 for c in cases if c.get("project") == "harbour") >= 20  # not only the demo's names
    assert sum(1 for c in cases if "<" in c["q"] or ":" in c["q"] or "`" in c["q"]) >= 10  # Slack markup


def test_intent_and_entity_accuracy_is_at_least_95_percent(vocabularies: dict[str, Vocabulary]) -> None:
    cases = labelled()
    misses = []
    right = Counter[str]()
    for case in cases:
        question = understood(case, vocabularies[case.get("project", "demo")])
        intent_ok, entity_ok = verdict(case, question)
        right["intent"] += intent_ok
        right["entity"] += entity_ok
        right["both"] += intent_ok and entity_ok
        if not (intent_ok and entity_ok):
            got = f"{question.intent or ('declined' if question.declined else '-')}/{question.entity}"
            misses.append(
                f"  {case['q']!r}: got {got} (unknown {question.subjects.unknown}), "
                f"want {case['intent']}/{case.get('entity')}"
            )
        right["held out"] += bool(case.get("held_out")) and intent_ok and entity_ok
    held_out = sum(1 for c in cases if c.get("held_out"))
    report = ", ".join(f"{k} {right[k] / len(cases):.1%}" for k in ("intent", "entity", "both"))
    report += f"; of the {held_out} written after the rules: {right['held out'] / held_out:.1%}"
    print(f"\n{len(cases)} labelled questions: {report}\n" + "\n".join(misses))

    assert right["both"] / len(cases) >= REQUIRED, report + "\n" + "\n".join(misses)


def test_every_decline_is_declined(vocabularies: dict[str, Vocabulary]) -> None:
    for case in labelled():
        if case["intent"] == "decline":
            question = understood(case, vocabularies[case.get("project", "demo")])
            assert verdict(case, question)[0], case["q"]


@pytest.mark.parametrize(
    ("raw", "text", "addressed"),
    [
        (f"<@{BOT_USER}> is `payment` fresh?", "is payment fresh?", True),
        ("<@U0ANNA0001> says <#C0123|amd-help> is slow", "someone says amd-help is slow", False),
        ("see <https://x.example/d?a=1&amp;b=2|the dashboard> :fire:", "see the dashboard", False),
        ("```select 1``` *bold* _it_ ~no~ &lt;3", "select 1 bold it no <3", False),
        ("@amd who owns PURCHASE", "who owns purchase", True),
        ("<!here> payment.currency?", "payment.currency?", False),
        # A link to an Airflow DAG or run names its DAG, whatever the link's text.
        (
            "look <https://airflow.example.com/dags/amd_user/grid?dag_run_id=x|this run>",
            "look this run amd_user",
            False,
        ),
        ("stale in the 02:00-04:00 window?", "stale in the 02:00-04:00 window?", False),  # a time's colons
        # spoken to where the mention opens or ends the message or stands apart; elsewhere spoken of
        ("hi <@U0AMDBOT01> :wave: is payment fresh?", "hi is payment fresh?", True),
        ("is payment fresh? <@U0AMDBOT01> :pray:", "is payment fresh?", True),
        ("sorry, <@U0AMDBOT01>, wrong channel", "sorry, , wrong channel", True),
        ("does <@U0AMDBOT01> get a day off too?", "does get a day off too?", False),
        ("who configured <@U0AMDBOT01>'s avatar?", "who configured 's avatar?", False),
    ],
)
def test_slack_markup_becomes_plain_words(raw: str, text: str, addressed: bool) -> None:
    said = plain(raw, bot_user=BOT_USER)
    assert (said.text, said.addressed) == (text, addressed)


@pytest.mark.parametrize(
    ("asked", "intent", "subjects"),
    [
        ("and purchase?", "freshness", ("purchase",)),  # the thread's intent, a new subject
        ("and who owns it?", "owner", ("payment",)),  # a new intent, the thread's subject
        ("is any table stale?", "freshness", ()),  # everything, not the thread's entity
        ("and shipment?", "freshness", ()),  # a name that is none: the reply says so
        ("thanks!", None, ()),  # no question
        ("lunch anyone?", None, ()),
        ("merged the purchase refactor, thanks", None, ("purchase",)),  # a remark, not put to the thread
        ("the pizza order is in, who's hungry?", None, ("purchase",)),  # a name said in passing
        ("who ordered the pizzas? the orders are at the door", None, ("purchase",)),  # ... in everyday talk
    ],
)
def test_a_follow_up_in_a_thread(
    vocabularies: dict[str, Vocabulary], asked: str, intent: str | None, subjects: tuple[str, ...]
) -> None:
    question = understand(plain(asked, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
    followed = follow_up(question, "freshness", Subjects(entities=("payment",)))
    assert (followed.intent, followed.subjects.entities) == (intent, subjects)


@pytest.mark.parametrize(
    ("asked", "intents", "entity", "unknown"),
    [
        ("were the purchases copied to snowflake?", ("migrations",), "purchase", None),  # copied: copy
        ("what's the staleness of payment", ("freshness",), "payment", None),  # -ness → fresh/stale
        ("the user dag broke again?", ("runs",), "user", None),  # an irregular verb
        ("has the payment feed got into the warehouse yet?", ("freshness",), "payment", None),  # arriving
        ("how many days old is purchase", ("freshness",), "purchase", None),  # an age, not a count
        ("how many alerts fired for user", ("incidents",), "user", None),  # counts no rows
        ("user: owner? lineage?", ("owner", "lineage"), "user", None),  # several question marks
        ("- is user fresh\n- who owns it", ("freshness", "owner"), "user", None),  # a bulleted list
        ("1) when did user load 2) who owns it", ("freshness", "owner"), "user", None),  # a numbered one
        ("amd_nightly_export stuck?", ("runs",), None, None),  # a DAG no entity declares
        ("amd_nightly_export??", ("status",), None, None),  # ... is a subject named: its status
        ("has amd_nightly_export been stuck for ages?", ("runs",), None, None),  # no name but the DAG's
        ("a customer says her order never showed up: is purchase behind?", ("freshness",), "purchase", None),
        ("after the offsite: data all good?", ("overall",), None, None),  # no name across ':'
        ("how many records fail not_null_payment_payment_id?", ("tests",), "payment", None),  # its model
        ("has the payment snapshot been deleted?", ("lineage",), "payment", None),  # what was done
        ("who is bringing cake on friday?", (), None, "bringing"),  # a who-question about nothing known
        ("the late train made me miss standup", (), None, None),  # a data word of an everyday thing
        ("anyone up for a dbt talk tomorrow?", (), None, None),
        ("https://docs.example.com/#!/model/model.amd.purchase owner?", ("owner",), "purchase", None),
        ("which team is behind purchase?", ("owner",), "purchase", None),
        ("what fell over last night?", ("overall",), None, None),  # trouble in a phrase
        ("did everything load ok?", ("overall",), None, None),  # all well, of everything
        ("did everything go ok at the offsite?", (), None, None),  # ... about nothing the bot knows
        ("why hasn't payment refreshed since monday?", ("freshness",), "payment", None),  # a span to now
        ("when we got the alert, how stale was user at 6am?", ("history",), "user", None),
        ("is the purchase ticket from this morning resolved?", ("incidents",), "purchase", None),
        ("why's user behind, did its dag crash?", ("freshness",), "user", None),  # the cause is the run
        ("was user late at 7 today and is it still late?", ("history", "freshness"), "user", None),
        ("was purchase fresh last sunday? who owns it", ("history", "owner"), "purchase", None),
        ("user stale at any point over the weekend?", ("history",), "user", None),  # gone: no "was"
        (
            "how far is the address migration, and are addresses fresh?",
            ("migrations", "freshness"),
            "delivery_address",
            None,
        ),
        (
            "is the address migration stuck and is an incident open on it?",
            ("migrations", "incidents"),
            None,
            None,
        ),
        ("what reads stg_payment_captured downstream?", ("lineage",), "payment", None),  # feeds one entity
        ("are user_registered events still arriving?", ("freshness",), "user", None),  # ... named as events
        ("customer complaint: is purchase behind?", ("freshness",), "purchase", None),  # a customer speaking
        ("has my expense payment landed? HR said friday", (), "payment", None),  # everyday, named in passing
        ("my orders look short today, is purchase behind?", ("freshness",), "purchase", None),  # ... and not
        ("payment: who owns it, and whether its tests pass", ("owner", "tests"), "payment", None),
        ("anyone tried the new snowflake ui? so much faster", (), None, None),  # a source, no migration word
        ("is the snowflake copy stuck?", ("migrations",), None, None),  # ... and with one
        ("is all the old cassandra data in amd.delivery_address_history yet", ("migrations",), None, None),
        ("how many customers do we have in total?", ("volume",), "user", None),  # a count, not an analysis
        ("how many txns yesterday vs the day before?", ("volume",), "payment", None),  # ... nor an opinion
        ("how many customers from Berlin in total?", (), "user", None),  # a count with a filter is one
        ("is the cassandra leg of the address history copy done?", ("migrations",), None, None),  # no entity
        ("how was your weekend everyone?", (), None, None),  # a past moment of nothing the bot knows
        ("yesterday around 6, were the customers numbers up to date?", ("history",), "user", None),
        ("pymt fresh?", ("freshness",), "payment", None),  # a name cut short: its consonants
        ("is the deliv addr table late", ("freshness",), "delivery_address", None),  # part for part
        ("when did txns last load", ("freshness",), "payment", None),  # the usual short form, anywhere
        ("can you add owner purch", ("owner",), "purchase", "add"),  # "add" is English, not an address
        ("are checkouts behind?", ("freshness",), "purchase", None),  # what its description says a row is
        ("checkouts up to date?", ("freshness",), "purchase", None),  # ... and asked in a phrase
        ("who owns the table with card captures?", ("owner",), "payment", None),  # "captured payment"
        ("are registrations landing?", ("freshness",), "user", None),  # "registered": one stem
        ("the registry creds expired again, failing builds", (), None, None),  # ... but not anywhere
        ("payments-team tables all fine?", ("status",), None, None),  # an owner's words name no entity
        ("which tests fail on purchase, and how many rows?", ("tests",), "purchase", None),  # failing rows
        (
            "what is valid_to on addresses, and why is it empty on some rows?",
            ("meaning",),
            "delivery_address",
            None,
        ),
        (
            "what does currency mean on purchase, and how many rows does it have?",
            ("meaning", "volume"),
            "purchase",
            None,
        ),
        # An analysis' words in passing of a question about the data's state; an analysis asked for.
        ("is the revenue in payment up to date this morning?", ("freshness",), "payment", None),
        ("what's the average amount on purchase?", (), "purchase", None),
        ("refunded_amount_cents: is it net of chargebacks?", ("meaning",), "payment", "chargebacks"),
        ("created_at vs loaded_at on purchase?", ("meaning",), "purchase", None),  # two columns, no view
        # Asked to change things, however politely; a setting's secret by its name.
        ("could you just mark the purchase tests as passed?", (), "purchase", None),
        ("please set the user SLA to 6h", (), "user", None),
        ("drop amd.purchases please", (), "purchase", None),
        ("send me the value of SLACK_BOT_PASSWORD", (), None, "slack_bot_password"),
        # A time of a day gone, in any tense; a span up to now is the present.
        ("yesterday 19:00, payment up to date?", ("history",), "payment", None),
        ("is user fresh since yesterday 23:00?", ("freshness",), "user", None),
        (
            "is purchase fresh as of yesterday evening? the board meets at noon",
            ("freshness",),
            "purchase",
            None,
        ),
        (
            "was purchase fresh at 5am, and how many rows did it have?",
            ("history", "volume"),
            "purchase",
            None,
        ),
        ("how many hours behind is user?", ("freshness",), "user", None),  # hours, not rows
        # A subject's state asked for as a whole is its status, freshness and all.
        ("any update on delivery_address?", ("status",), "delivery_address", None),
        ("user — where do we stand?", ("status",), "user", None),
        # Everyday words outside what is asked; an overall question names nothing, whatever its words.
        ("is there an incident open? my boss mentioned one at lunch", ("incidents",), None, None),
        ("back from parental leave, anything broken in the data?", ("overall",), None, None),
        # "a", "my" make an entity someone's only when it follows them: "an alert about orders" is no one's
        ("is there an alert about orders, and who should I ping?", ("incidents", "owner"), "purchase", None),
        # the past moment asked in a later clause; a night as a span; "and if so why …" asks
        ("how many rows does user have, and was it up to date at 7am?", ("history", "volume"), "user", None),
        ("was payment late at any point last night?", ("history",), "payment", None),
        ("did amd_purchase succeed, and if not why is it behind?", ("runs", "freshness"), "purchase", None),
        ("who owns the table vouchers?", ("owner",), None, "vouchers"),  # a name after its table word too
        ("when did ledger_entries last load?", ("freshness",), None, "ledger_entries"),  # snake_case: a table
        ("how far behind is the fx_quotes model?", ("freshness",), None, "fx_quotes"),  # ... not "far"
        ("how many rows in chargebacks today?", ("volume",), None, "chargebacks"),
        ("on friday evening, payments were still behind?", ("history",), "payment", None),  # then, not now
        ("were we all green on Sunday?", ("history",), None, None),  # a day is no name
        # Other languages' data-status words around the catalog's names (commands/ask/glossary.py)
        ("o payment está atualizado?", ("freshness",), "payment", None),
        ("wer ist der Owner von purchase?", ("owner",), "purchase", None),
        ("combien de lignes dans user ?", ("volume",), "user", None),
        ("perché amd_payment è fallito?", ("runs",), "payment", None),
        ("¿el user estaba al día ayer a las 8?", ("history",), "user", None),
        ("ist die Tabelle coupons aktuell?", ("freshness",), None, "coupons"),
        ("de onde vem a tabela purchase?", ("lineage",), "purchase", None),
        ("alguém vai almoçar?", (), None, None),  # everyday talk stays as it was written
        # items numbered in brackets each ask, whatever their wording
        ("pls confirm (1) user is current (2) its tests pass", ("freshness", "tests"), "user", None),
        ("did the purchase validations run ok today?", ("tests",), "purchase", None),  # tests said to run
        # a DAG's run beside a test's result
        (
            "is the non_negative test still red, and when did amd_payment last run?",
            ("tests", "runs"),
            "payment",
            None,
        ),
        ("which tests fail on purchase and how many orders are affected", ("tests",), "purchase", None),
        ("was user within its sla at 9, when my report ran?", ("history",), "user", None),  # tells when
        ("what's user.home_currency and from where does it come?", ("meaning", "lineage"), "user", None),
        ("is payment under its 12h SLA?", ("freshness",), "payment", None),  # an SLA kept is freshness
        ("is the purchase data complete through yesterday?", ("freshness",), "purchase", None),
        ("is anything still open against user?", ("incidents",), "user", None),
        ("who will get paged when purchase breaks?", ("owner",), "purchase", None),
        ("what's the latest on user?", ("status",), "user", None),  # its state as a whole
        ("all clear? about to start the big export", ("overall",), None, None),  # the rest tells why
        ("which source rows feed the events source?", ("lineage",), None, None),  # a dbt source is no name
        ("which events create the rows in purchase?", ("lineage",), "purchase", None),  # what makes its rows
        ("max(registered_at) on user is from tuesday??", ("freshness",), "user", None),  # its newest row
        ("purchase volume trend for november?", ("volume",), "purchase", None),
        ("when exactly did user cross its SLA?", ("history",), "user", None),  # when a staleness began
        ("the pizza order is in, who's hungry", (), "purchase", None),  # an everyday thing's: said in passing
        ("Re: purchase, any update from the team?", ("status",), "purchase", None),
        ("anything else red besides purchase?", ("overall",), None, None),  # the rest of the data
        ("can a user have a status other than active?", ("meaning",), "user", None),  # one other value
        ("is the migration still stuck since lunch?", ("migrations",), None, None),  # lunch: a time
        ("can we change the order of the slides?", (), "purchase", None),  # an everyday thing's order
        ("freshness of purchase at 08:00 UTC yesterday?", ("history",), "purchase", None),
        ("when was user last built?", ("freshness",), "user", None),  # its last build is its last load
        # how it is, whatever the reason says: "build" there is no load
        (
            "anything up with purchase? want the lay of the land before I build on it",
            ("status",),
            "purchase",
            None,
        ),
        # what the asker says they are not asking, and what they say they are
        ("not asking if the addresses are stale, only who to ping", ("owner",), "delivery_address", None),
        (
            "the purchase checks are fine, I'm only asking whether its dag completed last night",
            ("runs",),
            "purchase",
            None,
        ),
        ("which test is red on purchase + how many failed rows", ("tests",), "purchase", None),
        ("payment stale and who maintains it", ("freshness", "owner"), "payment", None),  # two words, asked
        (
            "could you list the fields of user and tell me whether its not_null test passes?",
            ("meaning", "tests"),
            "user",
            None,
        ),
        ("does user already include the signups from this morning?", ("freshness",), "user", None),
        ("was user fresh at 04:00 UTC? the export read it then", ("history",), "user", None),  # no meaning
        ("user freshness at 08:15 today", ("history",), "user", None),
        (
            "schema q: what columns does purchase have, and is amount_cents the total or per item?",
            ("meaning",),
            "purchase",
            None,
        ),
        ("incidents in the past 24h?", ("incidents",), None, None),  # a window, no runs cue
        # a time in what the asker tells is no moment asked about
        (
            "has purchase been refreshed since 05:00? the report still shows orders up to 22:40 yesterday",
            ("freshness",),
            "purchase",
            None,
        ),
        # access asked for oneself, a list of people, one customer by number: declined
        ("can we get select access on purchase for the new analysts?", (), "purchase", None),
        ("how much has customer 80231 ordered this year?", (), "user", None),
        ("pls share a file of all orders from november", (), "purchase", None),
        ("pls truncate amd.delivery_address before the migration reloads it", (), "delivery_address", None),
        ("who orders the toner for the office printer?", (), None, None),  # "orders": a verb
        # short items listed before the question they are joined to ask too; someone telling does not
        ("row count of user and any open incidents on it?", ("volume", "incidents"), "user", None),
        ("purchase: last load + who owns it?", ("freshness", "owner"), "purchase", None),
        ("tests aside, is user up to date?", ("freshness",), "user", None),
        ("the doc is outdated, who maintains purchase?", ("owner",), "purchase", None),
        ("is user late, and is anybody on it?", ("freshness", "incidents"), "user", None),  # someone on it
        ("Hi team, please disable the unique test on user for today", (), "user", None),  # after a greeting
        ("payment stale tuesday evening?", ("history",), "payment", None),  # a part of a weekday
        ("was purchase fresh in the 01:00-03:00 window?", ("history",), "purchase", None),  # no emoji code
        # everyday things asked about, a name only in what follows
        ("who is bringing the cake? the orders from the bakery are in the lobby", (), "purchase", "bringing"),
        # what follows a question may guess its answer; more asked after "and" is asked
        (
            "what does status on payment hold? captured only, or failed ones too?",
            ("meaning",),
            "payment",
            None,
        ),
        ("where does purchase come from? the app, or some stale backup?", ("lineage",), "purchase", None),
        (
            "which task did the last amd_user run fail on, the build or the tests? asking before a rerun",
            ("runs",),
            "user",
            None,
        ),
        ("what is purchase? and is it fresh?", ("meaning", "freshness"), "purchase", None),  # guard
        # the why asked is of lateness: the DAG's runs are among its causes
        (
            "is the dag broken, or did the events stop? why is purchase so late?",
            ("freshness",),
            "purchase",
            None,
        ),
        ("why did amd_payment fail, and is payment fresh?", ("runs", "freshness"), "payment", None),  # guard
        # the present asked, not the asker's story
        (
            "was payment fresh at 7 this morning? my report ran at 7:10 and now it shows other numbers",
            ("history",),
            "payment",
            None,
        ),
        (
            "was payment fresh at 7 this morning and is it fresh now?",
            ("history", "freshness"),
            "payment",
            None,
        ),
        ("delivery_address freshness at 06:00 utc on 14.12.?", ("history",), "delivery_address", None),
        ("was user within its sla on new year's eve?", ("history",), "user", None),
        ("who owns payment and what's their slack channel?", ("owner",), "payment", None),
        ("why is payment behind and who's looking into it?", ("freshness", "owner"), "payment", None),
        (
            "Kindly tell when user was last loaded and if the signup volumes look normal this week",
            ("freshness", "volume"),
            "user",
            None,
        ),
        (
            "who owns delivery_address? the history migration will write into it next week",
            ("owner",),
            "delivery_address",
            None,
        ),
        # a full stop ends what "a customer"/"the old one" says in passing
        (
            "A customer moved house and we shipped to the old one. Is the address data behind?",
            ("freshness",),
            "delivery_address",
            None,
        ),
        ("how many purchases in Q3 vs Q2?", ("volume",), "purchase", None),  # a count over time
        ("anyone have the address of the restaurant for friday?", (), "delivery_address", None),  # everyday
        # the fifteenth round's
        ("my parcel order shipped late again, anyone else?", (), "purchase", "shipped"),  # the model is sure
        ("how are things with everything lena.m owns?", ("status",), None, None),  # an owner's status
        ("is not_null_purchase_user_id red again?", ("tests",), "purchase", None),  # a test's colour (guard)
        ("what does jonas.w own? he's on holiday and I'm covering", ("owner",), None, None),  # no table
        (
            "before I start the next migration batch: anything unhealthy in the warehouse?",
            ("overall",),
            None,
            None,
        ),
        ("how long did amd_user take last night? volumes were 3x", ("runs",), "user", None),  # guard
        ("er purchase oppdatert i dag?", ("freshness",), "purchase", None),  # Norwegian
        ("user e la zi?", ("freshness",), "user", None),  # Romanian
        # the sixteenth round's
        (
            "before we restart the history migration tonight: is anything stale or failing right now?",
            ("overall",),  # a migration only in the asker's reasons
            None,
            None,
        ),
        (
            "what does valid_from mean for a customer's address, the day they moved?",
            ("meaning",),
            "delivery_address",
            None,
        ),
        ("ok who's the team behind user", ("owner",), "user", None),
        ("the family tree of user, pls", ("lineage",), "user", None),
        ("did any dag fail overnight? retries count too", ("runs",), None, None),  # an inflected cue, no name
        ("why did the user dag crash and who fixes it?", ("runs", "owner"), "user", None),
        # the seventeenth round's
        ("any known data problems this week?", ("overall",), None, None),  # done to the data, no name (guard)
        ("what fell over last night? three pager messages so far", ("overall",), None, None),  # guard
        ("who do we need to talk to about the vendors table", ("owner",), None, "vendors"),  # a verb
        ("lena.m", ("status",), None, None),  # an owner's handle alone
        ("does user hold all the rows up to yesterday?", ("freshness",), "user", None),
        ("how does a refund get into the payment table?", ("lineage",), "payment", None),
        ("why is user behind this morning? was it the backfill?", ("freshness",), "user", None),  # a cause
        ("how many records does purchase have in total?", ("volume",), "purchase", None),
        (
            "i run my query on purchase and get dupes, is the unique test failing?",
            ("tests",),
            "purchase",
            None,
        ),
        ("delivery_address_history", ("status",), None, None),  # a migration's name alone
        # the eighteenth round's
        (
            "customers keep calling about parcels at their old flat. is the shipping address table stale?",
            ("freshness",),
            "delivery_address",  # the sentence that asks names it, the story before it someone else
            "parcels",
        ),
        ("what is purchase.coupon_code exactly?", ("meaning",), "purchase", None),  # a column not documented
        ("any known incidents right now?", ("incidents",), None, None),  # a participle, no name
        (
            "could you tell me up to which hour the payment table contains data?",
            ("freshness",),
            "payment",
            None,
        ),
        ("purchases this week vs the week before?", ("volume",), "purchase", None),  # a count over time
        ("what's the fx_rates table about", ("meaning",), None, "fx_rates"),  # "what's" before the table
        # a time promised is no moment asked about
        (
            "why is payment still late, the fix was expected to land on tuesday",
            ("freshness",),
            "payment",
            None,
        ),
        (
            "pls is purchase fresh and who owns it?",
            ("freshness", "owner"),
            "purchase",
            None,
        ),  # asked politely
        ("what is situation with payments-team's data?", ("status",), None, None),  # an owner's status
        # the data as a whole asked about, with a run's colour in the story: not its runs alone
        ("what went wrong overnight? saw some red bits in the airflow ui", ("overall",), None, None),
        ("is anything off this morning? airflow shows a couple of red tasks", ("overall",), None, None),
        ("are the addrs fresh?", ("freshness",), "delivery_address", None),  # a plural cut short
        ("user fresh at midnight?", ("history",), "user", None),  # a time of day by its name, no verb
        # a column means what its own table says, whoever else is named
        ("does captured_at mean the moment the customer tapped pay?", ("meaning",), "payment", None),
        ("q significa is_current en addresses", ("meaning",), "delivery_address", None),  # texted Spanish
        ("any data problems today that we should warn customers about?", ("overall",), None, None),  # told
        (
            "could you tell me what status means and also if the users data is fresh today?",
            ("meaning", "freshness"),
            "user",
            None,
        ),
        ("what columns does purchase have and how many rows?", ("meaning", "volume"), "purchase", None),
        (
            "not_null_purchase_user_id: how many rows today?",
            ("tests",),
            "purchase",
            None,
        ),  # the rows it fails
        # what a state means to the asker is no column's meaning
        ("what does it mean if the user tile goes red, is a test failing?", ("tests",), "user", None),
        # a question advised on; a list of things named, asked of no question
        (
            "please advise how many rows purchase has and whether its tests passed",
            ("volume", "tests"),
            "purchase",
            None,
        ),
        (
            "for the handover: the owner of the user table, its tests, and its last refresh.",
            ("owner", "tests", "freshness"),
            "user",
            None,
        ),
        # a request's clause beside a question's asks too
        (
            "kindly share the owner of payment and tell me whether its tests pass",
            ("owner", "tests"),
            "payment",
            None,
        ),
        ("and who will sign off the user numbers?", ("owner",), "user", None),
        ("all systems go?", ("overall",), None, None),
        # an all-is-well phrase is not silenced as a remark about the offsite
        ("all systems normal this morning? most of us are at the offsite", ("overall",), None, None),
        ("catch me up on purchase, I was away", ("status",), "purchase", None),  # asked to be told
        ("fill us in on delivery_address", ("status",), "delivery_address", None),
        # a source's leg names the migration, and its rows are its progress
        ("how many rows did the bigquery leg add yesterday?", ("migrations",), None, None),
        ("why is the purchase test red? which rows does it flag?", ("tests",), "purchase", None),
        ("is payment stale, and who's handling it?", ("freshness", "owner"), "payment", None),
        ("any history migrations mid-flight?", ("migrations",), None, None),  # under way, no flight
        ("purchase: owner, lineage", ("owner", "lineage"), "purchase", None),  # a subject, a list
        ("user: tests, last load", ("tests", "freshness"), "user", None),
        ("why is purchase late, and who's on it?", ("freshness", "owner"), "purchase", None),
        ("whose table is payment?", ("owner",), "payment", None),
        # arrivals counted
        ("did amd_user run, and how many users arrived since midnight?", ("runs", "volume"), "user", None),
        # every kind of finding listed, all asked at once: the model may not narrow it to one
        ("big picture: migrations, tests, runs, freshness — all fine?", ("overall",), None, None),
        ("does status on payment hold anything besides captured?", ("meaning",), "payment", None),
        # a meeting or a use named for revenue asks for no analysis of it
        ("payment: anything to worry about before the revenue review?", ("status",), "payment", None),
        (
            "which column should I use for monthly revenue on payment, created_at or loaded_at?",
            ("meaning",),
            "payment",
            None,
        ),
        ("kuch toota hai kya?", ("overall",), None, None),  # romanised Hindi
        ("amd_user chala aaj?", ("runs",), "user", None),
        (
            "sind die payments aktuell, und wer ist zuständig falls nicht?",
            ("freshness", "owner"),
            "payment",
            None,
        ),
        ("what's the lag of purchase vs now?", ("freshness",), "purchase", None),  # a time compared: no view
        # an item of a list that names the latest of something: "last run of the dag"
        ("user — last run of the dag, tests, and who owns it?", ("runs", "tests", "owner"), "user", None),
        ("baskets?", ("status",), "purchase", None),  # a description's word, the whole message
        ("how many purchases in the table right now?", ("volume",), "purchase", None),  # no filter
        ("how many refunds per day land in payment?", ("volume",), "payment", None),  # a volume's unit
        # (the model, never having seen "provenance", reads "what's the provenance of the user data?" as its
        # status since the twenty-sixth round: README)
        ("provenance of the user table?", ("lineage",), "user", None),
        ("models behind payment?", ("lineage",), "payment", None),
        ("is there a channel where I can talk to the payment folks directly?", ("owner",), "payment", None),
        # people named for the data, no data asked about
        ("how is a data scientist different from a data analyst, asking for my nephew", (), None, None),
        # a column's name is no how-is-it word: "anything besides" asks about its values
        (
            "what does the status column in payment mean, could it be anything besides captured?",
            ("meaning",),
            "payment",
            None,
        ),
        # someone's own work told to the room: no question, whatever the model reads into it
        ("restarting the cassandra leg of the migration now, will watch it", (), None, None),
        ("bigquery chunks all done, moving on to mongodb tomorrow", (), None, None),
        ("amd_user red again, same not_null test, I'm on it", (), "user", None),
        ("on-call handover: payment test still failing, ticket is open", (), "payment", None),
        # a participle is no name in an entity's place
        ("is the user table built from purchase or the other way round?", ("lineage",), "user", None),
        ("how many rows are left on cassandra?", ("migrations",), None, None),
        ("is purchase calculated from payment?", ("lineage",), "purchase", None),
        (
            "amd_purchase last run + purchase test results",
            ("runs", "tests"),
            "purchase",
            None,
        ),  # joined by "+"
        ("can we order coffee for the offsite?", (), None, None),  # a verb, an everyday thing its object
        # an announcement to the room, a "please" in it: no question
        ("psa: please don't rerun amd_user without asking in #data-oncall", (), "user", None),
        ("does the payment table include all of the weekend?", ("freshness",), "payment", None),
        ("quick check: everything loaded and tested?", ("overall",), None, None),  # everything, two findings
        (
            "what does currency mean in purchase, and how many rows it has?",
            ("meaning", "volume"),
            "purchase",
            None,
        ),
        # one row is the grain asked about, not a volume
        ("what does purchase hold, what is a row of it exactly?", ("meaning",), "purchase", None),
        # a source that stopped, put forward as the cause of lateness: no lineage asked
        (
            "why hasn't payment updated since friday? was it the load job failing, or did the source stop "
            "sending data?",
            ("freshness",),
            "payment",
            "load",
        ),
    ],
)
def test_meaning_beyond_the_listed_phrasings(
    vocabularies: dict[str, Vocabulary],
    asked: str,
    intents: tuple[str, ...],
    entity: str | None,
    unknown: str | None,
) -> None:
    """Each rule of understanding on a phrasing of its own: none is a labelled set's question."""
    question = understand(plain(asked, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
    assert (question.intents, question.entity, question.subjects.unknown) == (intents, entity, unknown)


@pytest.mark.parametrize(
    ("asked", "declined"),
    [
        ("pause the nightly_export job for an hour pls", "a task, not a question"),  # told to do it
        ("please snooze the purchase alert till monday", "a task, not a question"),
        ("set jo.b as the owner of purchase", "a task, not a question"),
        ("could someone draft the postmortem for the purchase failure?", "a task, not a question"),
        ("do you think we should move off airflow?", "an opinion"),
        ("is a 6h SLA on payment too strict?", "an opinion"),
        ("be honest, is our dbt setup any good?", "an opinion"),
        ("add GBP to the accepted currencies of payment pls", "a task, not a question"),
        ("what's the street of customer id 1234?", "personal data"),
        ("send me the phone numbers for users in Lisbon", "personal data"),
        ("sum the purchase totals for october", "an analysis of the data itself"),
        ("what is the card number behind payment 7781234?", "personal data"),
        ("what's the snowflake service account password?", "sharing a secret"),
        ("backfill purchase from 1 nov to 30 nov pls", "a task, not a question"),
        ("can someone share the composer admin login?", "sharing a secret"),
        ("who has the api token for the warehouse?", "sharing a secret"),
        ("should we revert yesterday's purchase model change?", "an opinion"),
        ("is the user model badly designed?", "an opinion"),
        ("could you ping the payment owner for me?", "a task, not a question"),
        ("kill amd_payment please", "a task, not a question"),
        ("change purchase's freshness SLA to 6 hours", "a task, not a question"),
        ("honestly, is lena.m doing a bad job with the address data?", "an opinion"),
        ("is it ok to merge my PR that changes purchase.sql?", "an opinion"),
        ("make me owner of the payment table", "a task, not a question"),
        ("could you correct the amount on purchase 8812?", "a task, not a question"),
        ("please erase customer 5512 from user, she asked us to", "a change to data"),
        ("pls refund the order from this morning", "a task, not a question"),
        ("give the audit team read access to payment", "the data itself"),
        ("can you switch the purchase test to warn?", "a task, not a question"),
        ("please close the user incident, it is fixed", "a task, not a question"),
        ("can you add me to payments-team?", "a task, not a question"),
        ("can you push the purchase rows through again", "a task, not a question"),
        ("from the user data, which signup flow is better, A or B?", "an opinion"),
        ("bot pls rerun amd_user with a full refresh", "a task, not a question"),
        ("just skip the bad rows and mark the purchase load as done", "a task, not a question"),
        ("drop and recreate the user table please", "a task, not a question"),
        ("could the bot fix the negative amounts in payment?", "a task, not a question"),
        ("is the user table GDPR compliant?", "an opinion"),
        ("run this for me: select count(*) from amd.user where country = 'DE'", "running a query for you"),
        ("can u run this pls? select * from amd.user where id < 10", "running a query for you"),
        ("please amend the negative amounts in payment", "a task, not a question"),
        ("can someone give me admin in composer pls", "the data itself"),
        ("could you execute `select max(loaded_at) from amd.payment`?", "running a query for you"),
        ("please list all users from Vienna with their phone numbers", "the data itself"),
        ("give the intern admin on airflow pls", "the data itself"),
        ("how many customers churned in Q3 vs Q2", "an analysis of the data itself"),
        ("show me select * from amd.user limit 50", "the data itself"),  # `*` is Slack markup
        ("pls set the currency of purchase 771234 to GBP", "the data itself"),  # one record by its number
        ("what's the postcode for id 90817?", "personal data"),
        ("could you provide a complete export of purchase as excel?", "the data itself"),
        ("what is lena.m's mobile number?", "personal data"),
        ("can you paste 50 rows of payment in here?", "the data itself"),
        ("dump purchase into a spreadsheet for me pls", "the data itself"),
        ("whose fault was the payment delay?", "an opinion"),
        ("kick off amd_user again please", "a task, not a question"),
        ("can you paste those 12 duplicate purchase rows here?", "the data itself"),
        # a reason the sentence opens with is not all it says
        ("for the quarterly review, please list every person who can query amd.user", "the data itself"),
        ("show me the 20 purchases with negative totals", "the data itself"),  # rows picked by a value
        ("list the purchases that have no currency", "the data itself"),
        ("will the user data be stale again tomorrow?", "a prediction"),
        ("what will payments look like next month?", "a prediction"),
        ("could you run dbt build -s user for me?", "a task, not a question"),  # not "run a check on …"
        ("should we loosen the user SLA to 48h?", "an opinion"),
        ("which campaign brought us the most valuable customers?", "an analysis of the data itself"),
    ],
)
def test_requests_opinions_and_records_are_declined(
    vocabularies: dict[str, Vocabulary], asked: str, declined: str
) -> None:
    question = understand(plain(asked, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
    assert (question.intents, question.declined) == ((), declined)


@pytest.mark.parametrize(
    ("asked", "intents", "turned_down"),
    [
        (
            "is the address table up to date? and can you change its row for user 4410",
            ("freshness",),
            "personal data",
        ),
        ("who owns payment? Also, please grant my colleague access to it.", ("owner",), "a change to data"),
        (
            "how many rows does purchase have, and can you delete the test ones",
            ("volume",),
            "a change to data",
        ),
        # what a column is asked, and an analysis after it (not a guess at what the column holds)
        (
            "can you explain what refunded_amount_cents holds? and what was the revenue per country in Q3?",
            ("meaning",),
            "an analysis of the data itself",
        ),
        (
            "could you clarify what refunded_amount_cents holds — the total of all refunds, or the last?",
            ("meaning",),
            None,
        ),
        # the rest asks nothing in particular: the request is what the message is
        ("check payment and delete the duplicates", (), None),
        ("can someone explain snapshots vs a hand-built SCD2 model? just for my own learning", (), None),
    ],
)
def test_a_question_beside_a_request_is_answered_and_the_request_turned_down(
    vocabularies: dict[str, Vocabulary], asked: str, intents: tuple[str, ...], turned_down: str | None
) -> None:
    question = understand(plain(asked, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
    assert (question.intents, question.turned_down) == (intents, turned_down), question
    assert (question.declined is None) == bool(intents)


@pytest.mark.parametrize(
    "asked",
    [
        "can you check whether purchase is fresh?",  # a question put politely
        "could you send me the freshness of payment?",
        "can you sum up the status of payment?",
        "update on purchase pls",  # an update asked for, not made
        "should we be worried about payment?",
        "how late is purchase vs its SLA?",  # a comparison with its bar, not a view asked for
        "is a purchase one row per user or one per order?",  # what a row is, not a breakdown
        "the bigquery export migration: how many rows left?",  # a name, not an export asked for
        "total volume of payments in November?",  # a count over a stretch of time
        "backfill for purchase is done?",  # a backfill named, not one to do
    ],
)
def test_a_question_put_as_a_request_is_not_declined(vocabularies: dict[str, Vocabulary], asked: str) -> None:
    question = understand(plain(asked, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
    assert question.declined is None and question.intents, question


def test_an_entity_is_described_by_what_its_description_alone_says(demo_settings: Settings) -> None:
    """For any project: the first sentence of one entity's description, and nothing another's says too."""
    catalog = Catalog.load(demo_settings.manifest_path, {}, None)
    said = descriptions(
        [
            replace(catalog.entities["user"], description="One row per signup of a member. Refunds later."),
            replace(
                catalog.entities["purchase"], description="One row per order a member created, per shop."
            ),
        ],
        frozenset(),
        ["user", "purchase", "order"],
    )
    assert described_as("signups", said) == "user"  # its own word, plural
    assert described_as("shops", said) == "purchase"
    assert described_as("members", said) is None  # both say it
    assert described_as("refunds", said) is None  # beyond the first sentence
    assert described_as("orders", said) is None  # a name is matched as a name, never as a description
    assert described_as("creation", said) is None  # "created": a short verb is said of anything
    assert described_as("shop_daily", said) is None  # an identifier is a name of its own


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("good morning, is everything in order with the data today?", ()),  # an idiom, not `order`
        ("to whom should i address questions about the payment table?", ("payment",)),  # a verb
        ("who can i address a complaint to about purchase?", ("purchase",)),
        ("i will address that comment after lunch", ()),
        ("is the orders table in order?", ("purchase",)),
        ("are the sign-ups refreshed for today?", ("user",)),  # "registered customer", written apart
        ("signups landed yet?", ("user",)),
        ("are the carts up to date?", ("purchase",)),  # "checkout (basket)"
        ("what's the email address on file for customer 7?", ("user",)),  # an address that is no place
        ("whom should I address regarding the purchase numbers?", ("purchase",)),
    ],
)
def test_english_words_are_no_names_and_business_words_name_their_entity(
    vocabularies: dict[str, Vocabulary], text: str, entities: tuple[str, ...]
) -> None:
    assert resolve(text, vocabularies["demo"]).entities == entities


@pytest.mark.parametrize(
    ("asked", "intents"),
    [
        # a person asked for, whatever of: the owner, not the test
        ("is purchase fresh, and who maintains that broken not_null test on it?", ["freshness", "owner"]),
        ("who looks after the failing unique test on purchase?", ["owner"]),
        ("is the job that loads payment done for today?", ["runs"]),  # what a job does is not what is asked
        ("which models lie between the raw events and purchase?", ["lineage"]),
        ("did yesterday's refunds make it into payment?", ["freshness"]),
        ("amd_user: did that one go through?", ["runs"]),
        ("valid_from empty means what?", ["meaning"]),
    ],
)
def test_the_rules_hear_who_is_asked_for_and_what_a_job_is(
    vocabularies: dict[str, Vocabulary], asked: str, intents: list[str]
) -> None:
    """The cues alone, before the learned model's second opinion (which may read these otherwise)."""
    assert picked_intents(asked, INTENTS, vocabularies["demo"].cues, generic=False, named=True) == intents


def test_an_owner_of_everyday_things_is_no_question_for_the_bot(vocabularies: dict[str, Vocabulary]) -> None:
    """With a model that never saw these messages (dev_17 wrote the first), so the rules decide."""
    model = learned.trained([e for e in learned.examples() if e.written_for != "dev_17"])
    asked = {
        "who owns the Q3 OKR doc?": (),  # owning alone is no data word
        "who owns the jira project for the data team?": (),  # an everyday tool's
        "who owns this table?": ("owner",),  # a data word: the bot asks which entity
        "who owns the nightly dag?": ("owner",),
    }
    with learned.using(model):
        for text, intents in asked.items():
            question = understand(plain(text, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
            assert question.intents == intents, question


def test_a_remark_is_read_into_only_when_the_model_is_very_sure(vocabularies: dict[str, Vocabulary]) -> None:
    """Nothing asked, nothing known named: the model's reading (history, about 0.45 sure, from a model that
    never saw dev_37, dev_56 or dev_57, which have remarks like it) is not enough to answer a remark."""
    unseen = ("dev_37", "dev_56", "dev_57")
    model = learned.trained([e for e in learned.examples() if e.written_for not in unseen])
    remark = "the butterfly migration over the bay yesterday was stunning"
    with learned.using(model):
        assert learned.guess(remark, vocabularies["demo"])[0] == "history"
        question = understand(plain(remark, bot_user=BOT_USER).text, vocabularies["demo"], INTENTS)
    assert question.intents == (), question
