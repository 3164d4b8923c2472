"""A question in, a reply out: understand (no I/O), make sure it names what its intent needs (else a
"no entity X" or a clarifying reply with buttons), fetch the facts, and say where they come from and
as of when. Never a guess: what the bot cannot answer from a fact it says so, and points on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.core.command import Ctx
from bot.foundation.catalog import Catalog, CatalogMissing
from bot.foundation.errors import UsageError
from bot.foundation.migration_specs import MigrationSpec
from bot.foundation.ports import BackendUnavailable
from bot.foundation.suggest import unknown
from bot.render import format as fmt
from bot.render.message import Actions, Button, Context, Message, Text
from bot.state.answers import AnswerState, Asked
from commands.ask.about import GREETED, asks_about_me, no_reply, put_to_the_bot
from commands.ask.access import refused
from commands.ask.intent import Answer, Intent, Pick, Question
from commands.ask.intents import INTENTS
from commands.ask.markup import plain
from commands.ask.subjects import Subjects, Vocabulary
from commands.ask.threads import follow_up
from commands.ask.understand import understand
from commands.ask.words import GENERIC_WORDS

BY_NAME = {intent.name: intent for intent in INTENTS}
_VOCABULARIES: dict[tuple[int, tuple[str, ...]], tuple[Catalog, Vocabulary]] = {}
MAX_BUTTONS = 8  # a clarifying reply stays short; more options are named in its text instead


@dataclass(frozen=True)
class Reply:
    message: Message | None  # None: nothing to say (chatter in a help channel)
    asked: Asked | None = None  # what a follow-up in the thread continues from


def vocabulary(catalog: Catalog, migrations: Sequence[MigrationSpec]) -> Vocabulary:
    """Built once per catalog (a reload makes a new one): on 400 entities building it costs more
    than understanding a question does."""
    key = (id(catalog), tuple(m.name for m in migrations))
    kept = _VOCABULARIES.get(key)
    if kept is not None and kept[0] is catalog:
        return kept[1]
    # How-is-it words are cues too: never taken for a column's or an entity's name.
    cues = {word for intent in INTENTS for word in intent.words} | GENERIC_WORDS
    built = Vocabulary.of(catalog, migrations, cues, BY_NAME["freshness"].phrases)
    if len(_VOCABULARIES) >= 4:
        _VOCABULARIES.clear()
    _VOCABULARIES[key] = (catalog, built)
    return built


def read(
    text: str, ctx: Ctx, *, bot_user: str | None = None, thread: Asked | None = None
) -> tuple[Question, bool]:
    """The question in `text` and whether the bot was spoken to (commands/ask/markup). `thread`: what the
    bot last answered in the thread this message is in."""
    said = plain(text, bot_user=bot_user)
    vocab = vocabulary(ctx.catalog, ctx.backends.settings.migrations)
    question = understand(said.text, vocab, INTENTS)
    if thread is not None:
        question = follow_up(question, thread.intent, _remembered(thread.subject, vocab, ctx))
    return question, said.addressed


def _remembered(subject: str | None, vocab: Vocabulary, ctx: Ctx) -> Subjects:
    if subject is None:
        return Subjects()
    if subject in vocab.migrations.values():
        return Subjects(migration=subject)
    return Subjects(entities=(subject,)) if subject in ctx.catalog.entities else Subjects()


async def reply(
    question: Question, ctx: Ctx, *, direct: bool, prefix: str, in_channel: bool = False
) -> Reply:
    """`direct`: asked of the bot (a mention, a DM, `/amd ask`): it answers even what it cannot
    answer, with why. Otherwise (a help channel's chatter) only what it can answer gets a reply.
    `in_channel`: a mention in a channel, where a greeting alone or a remark is said to the room too.
    Several intents asked at once are answered together, in the order asked."""
    question = put_to_the_bot(question) if direct else question
    intents = _dag_alone([BY_NAME[name] for name in question.intents if name in BY_NAME], question)
    if not intents:  # a thank-you, even to the bot, needs no reply; nor "morning @amd!" in a channel
        silent = unanswered(question, ctx, direct=direct, in_channel=in_channel)
        return Reply(None if silent else await _decline(question, ctx, prefix))
    subjects = question.subjects
    if subjects.unknown and not (subjects.named or subjects.owner) and intents[0].name != "overall":
        return Reply(_no_such(question, ctx, prefix))
    answers: list[Answer] = []
    for intent in intents:
        need = _needs(intent, question, ctx)
        if need is not None:
            return Reply(await _pick(need, question, ctx))
        denied = refused(ctx, intent.reads(question, ctx.catalog))
        if denied is not None:  # no fact, not even whether it is fresh: only the rule that decided
            return Reply(Message((Text(denied.text),), fallback=denied.text, public=True))
        try:
            found = await intent.fetch(question, ctx)
        except (BackendUnavailable, CatalogMissing, UsageError) as exc:
            text = exc.message if isinstance(exc, UsageError) else str(exc)
            failed = f":warning: I could not fetch that just now: {text}"
            return Reply(Message((Text(failed),), fallback=text, public=True))
        if isinstance(found, Pick):
            return Reply(await _pick(found, question, ctx))
        answers.append(found)
    message = _answer(_together(answers), prefix, turned_down=question.turned_down)
    return Reply(message, Asked(intents[0].name, answers[0].subject))


_FACTS_OF_AN_ENTITY = frozenset({"freshness", "history", "owner", "meaning", "lineage", "volume", "tests"})


def unanswered(question: Question, ctx: Ctx, *, direct: bool, in_channel: bool) -> bool:
    """Gets no reply at all (see `reply`): chatter not put to the bot, or put to it but asking nothing it
    answers (commands/ask/about.no_reply). Known before any fact is fetched: it costs no rate budget."""
    question = put_to_the_bot(question) if direct else question
    if question.intents:
        return False
    vocab = vocabulary(ctx.catalog, ctx.backends.settings.migrations)
    return not direct or no_reply(question, vocab, INTENTS, in_channel=in_channel)


def _dag_alone(intents: list[Intent], question: Question) -> list[Intent]:
    """A DAG no entity declares, named where an entity would be ("who owns amd_ledger?"): what the bot
    knows of it is its runs, or that the orchestrator has no such DAG; so it answers its status
    (which says what it does not know), never another entity's facts or "about which entity?"."""
    subjects = question.subjects
    if not subjects.dag or subjects.entities or subjects.column_of or subjects.migration or subjects.owner:
        return intents
    return list(dict.fromkeys(BY_NAME["status"] if i.name in _FACTS_OF_AN_ENTITY else i for i in intents))


def _together(answers: Sequence[Answer]) -> Answer:
    if len(answers) == 1:
        return answers[0]
    sources = ", ".join(dict.fromkeys(a.source for a in answers))
    lines = tuple(line for a in answers for line in a.lines)
    more = answers[0].more
    return Answer(lines, sources, min(a.as_of for a in answers), more, answers[0].subject)


async def picked(value: str, ctx: Ctx, *, prefix: str) -> Reply:
    """A button of a clarifying reply: the question again, with what was picked."""
    data = json.loads(value)
    text = await AnswerState(ctx.backends.state.engine).question(str(data["k"]))
    if text is None:  # pruned with the other records: the question is long past
        gone = "That question is too old to pick an answer for; please ask it again."
        return Reply(Message((Text(gone),), fallback=gone, public=True))
    question, _ = read(text, ctx)
    choice = str(data["pick"])
    if choice in BY_NAME:
        question = replace(question, intent=choice)
    elif choice in {m.name for m in ctx.backends.settings.migrations}:
        question = replace(question, subjects=Subjects(migration=choice))
    else:
        entity, _, column = choice.partition(".")
        question = replace(question, subjects=Subjects(entities=(entity,), column=column or None))
    return await reply(question, ctx, direct=True, prefix=prefix)


def _needs(intent: Intent, question: Question, ctx: Ctx) -> Pick | None:
    subjects = question.subjects
    if intent.subject != "entity" or len(subjects.column_of) > 1:
        return None
    if len(subjects.entities) > 1:
        return Pick("Which one do you mean?", subjects.entities)
    if subjects.entities or subjects.column_of or (intent.of_migrations and subjects.migration):
        return None
    return Pick("About which entity?", tuple(ctx.catalog.entity_names()))


def _answer(answer: Answer, prefix: str, *, turned_down: str | None = None) -> Message:
    """The facts and their footer; and, when the message also asked for something the bot does not
    do, that it did not, so the question's answer is not taken for a yes to the request."""
    footer = f"as of {fmt.when(answer.as_of)}, from {answer.source} · more: `{prefix} {answer.more}`"
    facts = Text("\n".join(answer.lines))
    if turned_down is None:
        return Message((facts, Context((footer,))), fallback=answer.lines[0], public=True)
    not_done = f":no_entry_sign: The rest I have not done: that is {turned_down}, which I do not do."
    return Message((facts, Text(not_done), Context((footer,))), fallback=answer.lines[0], public=True)


async def _buttons(question: Question, options: Sequence[tuple[str, str]], ctx: Ctx) -> Actions:
    """(label, pick) pairs: each button asks the question again with its pick (see `picked`). A button
    carries a key to the question kept in the state store: never its text, which is the asker's and
    may be longer than a button's value."""
    key = await AnswerState(ctx.backends.state.engine).keep_question(question.text, now=ctx.now())
    value = {"k": key}
    return Actions(
        tuple(Button(label, "ask.pick", json.dumps(value | {"pick": pick})) for label, pick in options)
    )


async def _pick(pick: Pick, question: Question, ctx: Ctx) -> Message:
    buttons = await _buttons(question, [(option, option) for option in pick.options[:MAX_BUTTONS]], ctx)
    rest = pick.options[MAX_BUTTONS:]
    text = pick.prompt + (f" (or name another: {', '.join(f'`{o}`' for o in rest)})" if rest else "")
    return Message((Text(text), buttons), fallback=pick.prompt, public=True)


def _no_such(question: Question, ctx: Ctx, prefix: str) -> Message:
    text, _ = unknown("entity", question.subjects.unknown or "", ctx.catalog.entity_names())
    hint = f"Entities are the dbt models the bot knows: `{prefix} stats` lists them."
    return Message((Text(f":grey_question: {text}"), Context((hint,))), fallback=text, public=True)


async def _decline(question: Question, ctx: Ctx, prefix: str) -> Message:
    if question.subjects.entities and not question.declined:
        about = question.subjects.entities[0]
        options = [(i.label, i.name) for i in INTENTS if i.subject != "migration" and i.words]
        buttons = await _buttons(question, options, ctx)
        text = f"What would you like to know about `{about}`?"
        return Message((Text(text), buttons), fallback=text, public=True)
    why = f"that is {question.declined}, which I do not do" if question.declined else "I do not understand it"
    greeted = GREETED.match(question.text) and not question.declined  # "@amd hello! nice to meet you"
    opening = (
        ""
        if asks_about_me(question.text) and not question.declined
        else f"I cannot answer that from the facts I have: {why}. "
    )
    text = ("Hello! " if greeted else opening) + (
        "I answer about open incidents, freshness, runs, dbt tests, owners, meaning and lineage, migrations "
        "and volumes of the entities."
    )
    hint = (
        f"`{prefix} help` lists what I can do; an entity's owner (`{prefix} stats <entity>`) knows the rest."
    )
    return Message((Text(text), Context((hint,))), fallback=text, public=True)
