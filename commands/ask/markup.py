"""Slack's message markup turned back into the words a person typed.

`<@U…>` mentions, `<#C…|name>` channel links, `<http…|text>` links, `:emoji:` codes, `code spans` and
``` blocks, *bold*/_italic_/~strike~, mixed case and stray punctuation. Whether the bot itself was
spoken to is kept: in a help channel a mention is what turns chatter into a question to answer. A mention
speaks to the bot where it opens the message (after a greeting, a thank-you or a sorry), ends it or stands
between commas ("sorry, @amd, wrong channel"); elsewhere it speaks of the bot ("does @amd get a day off?",
"can we invite @amd to the retro?"), as people talk about a colleague in the room.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|here|channel|everyone)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>")
# A link pasted where Slack did not mark it up (the console, an API post): the same as a marked-up one.
_BARE_LINK = re.compile(r"(https?://[^\s<>]+)()")  # an empty text: "a link"
# A link names what it shows, whatever its text: Airflow its DAG (…/dags/<dag_id>/grid?dag_run_id=…),
# dbt docs its node (…/#!/model/model.<project>.<name>, a source, seed or snapshot too).
_NAMED_IN_LINK = re.compile(r"/dags/([A-Za-z0-9_.\-]+)|#!/(?:model|source|seed|snapshot)/\w+\.\w+\.(\w+)")
_EMOJI = re.compile(r"(?<!\d):[a-z0-9_+\-']+:(?!\d)")  # not a time's colons: "the 02:00-04:00 window"
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_STYLE = re.compile(r"(?<![\w.])[`*_~]+|[`*_~]+(?![\w.])")
_SPACES = re.compile(r"\s+")
# "@amd" typed as text (the console; a client that did not turn it into a mention).
_TYPED_MENTION = re.compile(r"(?<!\w)@amd(?:-bot)?\b", re.IGNORECASE)
_BOT = "\x00"  # where the bot was mentioned, while the rest of the markup goes
_ADDRESSED = re.compile(
    rf"^\W*(?:(?:hey|hi|hiya|hello|yo|morning|good morning|gm|dear|thanks|thank you|thx|ty|cheers|sorry|"
    rf"please|pls)\W+)?{_BOT}|{_BOT}\W*$|[,;:.!?(]\s*{_BOT}\s*[,;:.!?)]"
)


@dataclass(frozen=True)
class Said:
    text: str  # lower case, markup gone, one space between words
    addressed: bool  # the bot was @-mentioned as the one spoken to


def _link(found: re.Match[str]) -> str:
    named = _NAMED_IN_LINK.search(found.group(1))
    name = named and (named.group(1) or named.group(2))
    said = found.group(2) or "a link"
    return f" {said} {name} " if name and name not in said else f" {said} "


def plain(raw: str, *, bot_user: str | None) -> Said:
    text = _TYPED_MENTION.sub(f" {_BOT} ", raw.replace(_BOT, " "))
    text = _MENTION.sub(lambda m: f" {_BOT} " if m.group(1) == bot_user else " someone ", text)
    text = _CHANNEL.sub(lambda m: f" {m.group(1) or 'a channel'} ", text)
    text = _SPECIAL.sub(" ", text)
    text = _LINK.sub(_link, text)
    text = _BARE_LINK.sub(_link, text)
    text = _FENCE.sub(lambda m: f" {m.group(1)} ", text)
    text = html.unescape(_EMOJI.sub(" ", text))  # Slack escapes &, < and > in message text
    text = _SPACES.sub(" ", _STYLE.sub(" ", text)).strip().lower()
    addressed = _ADDRESSED.search(text) is not None
    return Said(_SPACES.sub(" ", text.replace(_BOT, " ")).strip(), addressed)
