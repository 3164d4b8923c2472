"""The interactive console as a person meets it: keys typed into prompt_toolkit (a pipe stands in for
the keyboard), answers read from what the console printed. Real router, real local runner, demo world."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

import commands
from bot.core.surface import CardRef
from bot.foundation.settings import Settings
from bot.render.console import to_text
from bot.render.message import Fields, Header, Message, Text
from bot.render.terminal import to_ansi
from bot.runtime import unmapped_owners
from bot.surfaces import terminal
from bot.surfaces.console import Console, ConsoleSurface
from bot.wiring import build_warehouse
from tests.support.bot import BotHarness, running_bot
from tests.support.slow import SlowWarehouse

ENTER, CTRL_C, CTRL_D = "\r", "\x03", "\x04"


class Terminal:
    """A console session: `keys.send_text(...)` types, `screen()` is everything printed so far."""

    def __init__(self, console: Console, keys: PipeInput, printed: list[str]) -> None:
        self.console = console
        self.keys = keys
        self.printed = printed

    def screen(self) -> str:
        return "".join(self.printed)

    async def until(self, seen: Callable[[str], bool], timeout: float = 120) -> str:
        """Wait, typing nothing, until the screen shows what `seen` looks for."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not seen(self.screen()):
            assert asyncio.get_running_loop().time() < deadline, f"never appeared; screen:\n{self.screen()}"
            await asyncio.sleep(0.1)
        return self.screen()


@asynccontextmanager
async def session(bot: BotHarness, history: Path) -> AsyncIterator[Terminal]:
    printed: list[str] = []
    console = Console(bot.router, commands.COMMANDS, user="U_CONSOLE", channel="C1", write=printed.append)
    with create_pipe_input() as keys:
        running = asyncio.create_task(
            terminal.repl(console, history=history, interval_s=0.3, input=keys, output=DummyOutput())
        )
        yield Terminal(console, keys, printed)
        keys.send_text(CTRL_D)
        await asyncio.wait_for(running, 30)


@pytest.mark.slow
async def test_a_run_card_goes_live_by_itself_while_the_prompt_waits(bot: BotHarness, tmp_path: Path) -> None:
    async with session(bot, tmp_path / "history") as term:
        term.keys.send_text("/amd run user full_refresh=false" + ENTER)  # words: no form
        await term.until(lambda s: "[1] Trigger  [2] Cancel" in s)
        term.keys.send_text("1" + ENTER)
        await term.until(lambda s: "Triggered `amd_user`" in s)

        # Nothing more is typed: the background refresh moves the card on and says when it ended.
        screen = await term.until(lambda s: re.search(r"@U_CONSOLE Run amd_user \(amd__\w+\): success", s))

    card = screen[screen.index("(pressed [1] Trigger)") :]
    assert "queued" in card
    assert re.search(r"\[#\d+ ↻\] .*success", card)  # the card itself changed state
    assert "(thread of #" in card  # its thread lines
    # Each change prints only what changed: the card's title is printed once, when it is posted.
    assert card.count("] Run amd_user\n") == 1


async def test_history_is_kept_across_sessions_and_ctrl_c_drops_the_line(
    bot: BotHarness, tmp_path: Path
) -> None:
    history = tmp_path / "history"
    async with session(bot, history) as term:
        term.keys.send_text("/amd help stats" + ENTER)
        await term.until(lambda s: "/amd stats [entity]" in s)
        term.keys.send_text("/amd stats paymnt" + CTRL_C)  # typed, then thought better of it
        term.keys.send_text("/amd help" + ENTER)
        first = await term.until(lambda s: "`/amd help [command]`" in s)

    async with session(bot, history) as term:
        term.keys.send_text("\x1b[A" + ENTER)  # Up: the last line of the previous session
        screen = await term.until(lambda s: "`/amd help [command]`" in s)

    assert "paymnt" not in first and "paymnt" not in history.read_text()  # the dropped line never ran
    assert "/amd help stats" in history.read_text()
    assert screen.count("`/amd help [command]`") == 1  # only the recalled line ran in the second session


async def test_the_prompt_stays_usable_while_a_slow_command_runs_and_ctrl_c_stops_it(
    bot_settings: Settings, tmp_path: Path
) -> None:
    slow = SlowWarehouse(build_warehouse(bot_settings), delay_s=60.0)
    async with running_bot(bot_settings, warehouse=slow) as bot, session(bot, tmp_path / "history") as term:
        term.keys.send_text("/amd stats" + ENTER)
        await term.until(lambda s: "Reading all entities from the warehouse" in s)
        term.keys.send_text("/amd help stats" + ENTER)  # the warehouse is still busy with the first
        await term.until(lambda s: "/amd stats [entity]" in s, timeout=10)
        signal.raise_signal(signal.SIGINT)  # Ctrl-C while the command runs: the terminal sends SIGINT
        screen = await term.until(lambda s: "(interrupted: /amd stats)" in s, timeout=10)

    assert "AMD entities\n============" not in screen  # the slow answer never came


async def test_tab_completes_subcommands_entities_and_dags(bot: BotHarness) -> None:
    console = Console(bot.router, commands.COMMANDS, user="U1", channel="C1", write=lambda _t: None)
    completer = terminal.CommandCompleter("/amd", terminal.vocabulary(console))

    def offered(typed: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(typed), CompleteEvent())]

    assert offered("/a") == ["/amd"]
    assert offered("/amd st") == ["stats"]
    assert offered("/amd stats pay") == ["payment"]
    assert offered("sta") == ["/amd stats"]  # a command typed without its prefix gets it
    assert offered("run amd_pa") == []  # … and Enter would ask "did you mean `/amd run amd_pa`?"
    assert "--freshness" in offered("/amd test ")
    assert offered("/amd help mig") == ["migration"]


async def test_a_card_printed_for_a_pipe_has_no_slack_markup_and_no_colour(bot: BotHarness) -> None:
    printed: list[str] = []
    console = Console(bot.router, commands.COMMANDS, user="U1", channel="C1", write=printed.append)
    await console.execute("/amd stats")
    screen = "".join(printed)

    assert "\x1b[" not in screen
    assert not re.search(r"(?<!\w)[*_]\w[^*_\n]*[*_](?!\w)", screen)  # no *bold* or _italic_ markers


async def test_unmapped_owners_are_one_note_at_start(bot: BotHarness) -> None:
    assert unmapped_owners(bot.backends.catalog) == ["anna.k", "jonas.w", "lena.m", "payments-team"]


async def test_quiet_prints_a_live_card_only_when_it_settles() -> None:
    printed: list[str] = []
    surface = ConsoleSurface(printed.append, quiet=True)
    ref = CardRef("C1", "1")

    def card(state: str, *, live: bool) -> Message:
        return Message((Text(f"Run: {state}"),), fallback=state, live=live)

    await surface.update(ref, card("running", live=True))
    await surface.update(ref, card("success", live=False))

    assert printed == ["[#1 ↻] Run: success\n"]


async def test_stats_and_source_freshness_each_say_what_they_measure(bot: BotHarness) -> None:
    stats = await bot.console("/amd stats")
    freshness = bot.router.ack_text(bot.router.prepare("test --freshness", user="U1", channel="C1"))

    assert "fresh = each entity's last load within its SLA (dbt's sources: `/amd test --freshness`)" in stats
    assert freshness == "Checking each dbt source's freshness (per entity: `/amd stats`)…"


def test_colour_only_for_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert terminal.renderer() is to_text  # pytest captures stdout: not a terminal

    monkeypatch.setenv("FORCE_COLOR", "1")  # as if stdout were a terminal
    assert terminal.renderer() is not to_text
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal.renderer() is to_text


@pytest.mark.slow
async def test_a_one_shot_command_prints_its_answer_and_nothing_else(
    demo_settings: Settings, tmp_path: Path
) -> None:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AMD_", "SLACK_", "FORCE_COLOR"))}
    env = keep | {
        "AMD_HOME": str(demo_settings.home),
        "AMD_STATE_URL": f"sqlite+aiosqlite:///{tmp_path}/s.db",
    }
    log = demo_settings.home / "amd-bot.log"
    logged_before = log.read_text() if log.exists() else ""
    amd_bot = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from bot.cli import main; main()",
        "console", "-c", "/amd test payment", "--wait", "120",
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = (b.decode() for b in await asyncio.wait_for(amd_bot.communicate(), 240))

    assert amd_bot.returncode == 0
    assert err == ""  # no progress bar: the world was already built; no log lines either
    assert "WARNING" not in out and "\x1b[" not in out  # a pipe gets plain text and only the answer
    assert out.count("dbt test: payment\n") == 1  # the card once; each change prints only what changed
    assert "✗ 1 of 8 tests failed." in out
    logged = log.read_text()[len(logged_before) :]
    assert logged.count("dbt owners without a Slack id") == 1  # one note at start, not one per test


async def test_commands_piped_in_run_in_turn_until_quit(bot: BotHarness) -> None:
    printed: list[str] = []
    console = Console(bot.router, commands.COMMANDS, user="U1", channel="C1", write=printed.append)

    await terminal.read_piped(console, io.StringIO("/amd help stats\n\nquit\n/amd help run\n"))

    assert "/amd stats\n==========" in "".join(printed)
    assert "/amd run\n" not in "".join(printed)  # after `quit`, nothing more runs


async def test_in_colour_too_a_change_prints_only_the_lines_that_changed() -> None:
    printed: list[str] = []
    surface = ConsoleSurface(printed.append, render=to_ansi)

    def card(state: str) -> Message:
        fields = Fields((("State", state), ("Duration", "—")))
        return Message((Header("Run"), fields), fallback=state, live=True)

    ref = await surface.post(card("queued"))
    await surface.update(ref, card("running for a while now"))

    change = re.sub(r"\x1b\[[0-9;]*m", "", printed[-1])
    assert change == "[#1 ↻] State     running for a while now\n"  # not the header, not Duration


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("amd stats", "/amd stats"),
        ("AMD run payment", "/amd run payment"),
        ("stats payment", "/amd stats payment"),
        ("help", "/amd help"),
        ("amd", "/amd"),
    ],
)
async def test_a_command_typed_without_its_slash_gets_did_you_mean(
    bot: BotHarness, typed: str, meant: str
) -> None:
    printed: list[str] = []
    console = Console(bot.router, commands.COMMANDS, user="U1", channel="C1", write=printed.append)

    await console.execute(typed)

    screen = "".join(printed)
    assert f"Did you mean `{meant}`?" in screen
    assert "runs" not in screen and "failed" not in screen  # not answered as a question about runs


async def test_names_written_as_slack_code_are_the_names(bot: BotHarness) -> None:
    printed: list[str] = []
    console = Console(bot.router, commands.COMMANDS, user="U1", channel="C1", write=printed.append)

    await console.execute("/amd stats `payment`")
    await console.execute("/amd stats ```purchase```")

    screen = "".join(printed)
    assert "No entity" not in screen, screen
    assert "payment\n=======" in screen and "purchase\n========" in screen, screen


async def test_a_question_that_starts_like_a_command_is_still_a_question(bot: BotHarness) -> None:
    printed: list[str] = []
    console = Console(bot.router, commands.COMMANDS, user="U1", channel="C1", write=printed.append)

    await console.execute("stats of payment?")

    assert "Did you mean" not in "".join(printed)
