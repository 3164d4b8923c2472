"""What an entity or one of its columns means: the descriptions written in dbt."""

from __future__ import annotations

from bot.core.command import Ctx
from commands.ask.intent import Answer, Intent, Pick, Question, phrases
from commands.ask.manifest import SOURCE, manifest_time


async def fetch(question: Question, ctx: Ctx) -> Answer | Pick:
    subjects = question.subjects
    column = subjects.column
    if column and len(subjects.column_of) > 1:
        return Pick(
            f"Several entities have `{column}`; which one?",
            tuple(f"{e}.{column}" for e in subjects.column_of),
        )
    name = question.entity or (subjects.column_of[0] if subjects.column_of else None)
    assert name is not None  # the engine asks for an entity first when none was named
    entity = ctx.catalog.entities[name]
    ask = f"ask {entity.owner}" if entity.owner else "its model has no owner in dbt either"
    if column and column not in entity.columns:
        having = ", ".join(f"`{e}`" for e in subjects.column_of) or "no entity"
        lines: tuple[str, ...] = (f"`{entity.name}` has no column `{column}`; {having} has one.",)
    elif column:
        node = ctx.catalog.nodes[entity.unique_id]
        described = node.get("columns", {}).get(column, {}).get("description", "")
        text = described or f"no description in dbt ({ask})"
        lines = (f"`{entity.name}.{column}`: {text}",)
    else:
        text = " ".join(entity.description.split()) or f"no description in dbt ({ask})"
        lines = (f"`{entity.name}`: {text}", f"Columns: {', '.join(f'`{c}`' for c in entity.columns)}")
    return Answer(lines, SOURCE, manifest_time(ctx), f"stats {entity.name}", subject=entity.name)


INTENT = Intent(
    name="meaning",
    label="Meaning",
    words=frozenset(
        [
            "mean",
            "means",
            "meaning",
            "definition",
            "define",
            "defined",
            "describe",
            "description",
            "documented",
            "documentation",
            "docs",
            "column",
            "columns",
            "field",
            "fields",
            "explain",
            "semantics",
            "contain",
            "contains",
            "hold",
            "holds",
            "keep",
            "keeps",
            "values",
            "schema",
            "represent",
            "store",
            "stores",
            "stored",
            "format",
            "unit",
            "type",
            "allowed",
            "calculated",
            "computed",
            "nullable",
            "grain",
            "granularity",
            "represents",
            "difference",
            "include",
            "includes",
            "exclude",
            "excludes",
            "cents",
            "euros",
            "dollars",
            "timezone",
            "enum",
            "datatype",
        ]
    ),
    phrases=phrases(
        r"stands? for",
        r"\bmeans? what\b",  # "valid_to empty means what?"
        r"(what|which) \w+ (can|could|may|might) ",
        r"look like",
        r"one row",
        r"data type",
        r"primary key",
        r"what kind of",
        r"what is in",
        r"(sum|total|average|max|maximum|min|minimum) of (all|the|every|each)",  # how it is computed
        # a column's time zone ("is registered_at UTC?"), not a time's: "was it fresh at 06:00 UTC?"
        r"(?<![\d:])(?<!\d )(?<!am )(?<!pm )utc",
    ),
    subject="entity",
    fetch=fetch,
    weak=phrases(r"what (is|are|does|do)", r"what's", r"whats"),
)
