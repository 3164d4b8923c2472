"""README transcripts as tests: each `$ .venv/bin/amd-bot …` line of a ```text block is run and its
output compared with the lines under it.

A small harness rather than a doc-testing library: the transcripts are shell, with `\\` continuations,
comments, elisions (`…`) and values that change every run; cram-style tools would need the README
rewritten in their syntax (indented, `$ ` inside), and pytest's doctest reads Python only.

What a block needs is said just above it, in an HTML comment the rendered README does not show:
  <!-- transcript: fresh-home -->                          a new copy of the freshly built demo home
  <!-- transcript: fresh-home; after: demo nightly -->     …then these amd-bot commands, output unread
  <!-- transcript: skip: why -->                           not run (say why)
  <!-- transcript: ready: TEXT -->                         see below
A block without one continues in the home of the block before it.

A command ending in `> FILE &` runs in the background, its output in FILE (in the home's parent, the
commands' working directory): with `ready: TEXT` the commands after it start once FILE has a line that
starts with TEXT, as a reader would wait for it. It is stopped when its block ends (tests/support/jobs.py).

Compared after normalising what differs between runs (times, ages, ids, paths, every number, column
widths): the wording, the order and the structure of the answers are what is checked.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_MARKER = re.compile(r"<!--\s*transcript:\s*(.*?)\s*-->")
_COMMAND = "$ .venv/bin/amd-bot "


@dataclass
class Step:
    argv: list[str]
    expected: list[str] = field(default_factory=list)
    line: int = 0  # in README.md, for the failure message
    output: str | None = None  # `> FILE &`: run in the background, output in FILE


@dataclass
class Block:
    line: int
    fresh_home: bool = False
    after: list[list[str]] = field(default_factory=list)  # setup commands (amd-bot argv), output unread
    skip: str | None = None
    ready: str | None = None  # the line a background command's output must have before the next step
    steps: list[Step] = field(default_factory=list)


def blocks(readme: str) -> list[Block]:
    found: list[Block] = []
    marker: str | None = None
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        text = lines[i]
        if m := _MARKER.search(text):
            marker = m.group(1)
        elif text.startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            body = lines[i + 1 : end]
            if text.strip() == "```text" and any(b.startswith(_COMMAND) for b in body):
                found.append(_block(i + 1, body, marker))
            marker = None
            i = end
        elif text.strip():
            marker = None if not text.startswith("<!--") else marker
        i += 1
    return found


def _block(line: int, body: list[str], marker: str | None) -> Block:
    block = Block(line=line)
    for part in (marker or "").split(";"):
        key, _, value = part.strip().partition(":")
        if key == "fresh-home":
            block.fresh_home = True
        elif key == "after":
            block.after = [shlex.split(c) for c in value.split(",")]
        elif key == "skip":
            block.skip = value.strip() or "no reason given"
        elif key == "ready":
            block.ready = value.strip()
    k = 0
    while k < len(body):
        if body[k].startswith(_COMMAND):
            command, start = body[k], k
            while command.endswith("\\"):
                k += 1
                command = command[:-1] + " " + body[k].strip()
            argv = shlex.split(command[len(_COMMAND) :], comments=True)
            output = None
            if argv[-1:] == ["&"]:
                if argv[-3:-2] != [">"]:
                    raise ValueError(f"README.md:{line + start + 1}: a background command needs `> FILE &`")
                argv, output = argv[:-3], argv[-2]
            block.steps.append(Step(argv, line=line + start + 1, output=output))
        elif block.steps:
            block.steps[-1].expected.append(body[k])
        k += 1
    for step in block.steps:  # the blank line before the next `$` is layout, not output
        while step.expected and not step.expected[-1].strip():
            step.expected.pop()
    return block


_RULES: list[tuple[str, str]] = [
    (r"file://\S+?(?=[)\s]|$)", "<path>"),  # logs and artefacts under AMD_HOME
    (r"(?:/tmp|/var|/private|~)/\S+", "<path>"),
    (r"\b(?:amd__|test-|scheduled__)[0-9a-fA-F:T_-]+", "<run id>"),
    (r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?(?: UTC)?)?", "<time>"),
    # a day as the bot says it ("Fri 04 Dec"): the day a transcript is run on
    (r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{2} [A-Z][a-z]{2}\b", "<day>"),
    (r"\d+ d \d+ h|\d+ h \d+ min|< ?\d+ min|\d+ (?:min|s|h|d)\b", "<age>"),
    (r"\d[\d,]*(?:\.\d+)?", "N"),  # counts, rates, revisions: the demo's data changes with the day
    (r"`[█░]+`", "`<bar>`"),  # a progress bar draws the percentage beside it
    (r"([=-])\1{2,}", r"\1\1\1"),  # underlines and table rules follow the widths of what they frame
    (r" {2,}", " "),  # column padding follows the widths too
]


def normalise(text: str) -> str:
    for pattern, replacement in _RULES:
        text = re.sub(pattern, replacement, text)
    return text.rstrip()


def _wildcard(line: str) -> str | None:
    """`…` alone, or `prefix… (what was left out)`: any number of lines (starting with the prefix)."""
    stripped = line.strip()
    if stripped == "…":
        return ""
    if m := re.fullmatch(r"(.*?)… \(.*\)", line):
        return m.group(1)
    return None


def matches(expected: list[str], actual: list[str]) -> bool:
    pattern = ""
    for line in expected:
        prefix = _wildcard(line)
        if prefix is None:
            pattern += re.escape(normalise(line)) + "\n"
        else:
            pattern += f"(?:{re.escape(normalise(prefix))}.*\n)*?"
    return re.fullmatch(pattern, "".join(normalise(a) + "\n" for a in actual)) is not None
