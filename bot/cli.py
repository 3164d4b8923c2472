"""The `amd-bot` command line: `console`, `serve`, `demo` (and the migration tools)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import NoReturn, TextIO

from bot import runtime
from bot.doctor import Finding, report
from bot.foundation import arguments, logs, settings_load
from bot.foundation.errors import ConfigError
from bot.foundation.settings import Settings
from bot.migration.cli import add_migration_commands
from bot.state.cli import add_db_commands
from demo.migration.cli import add_demo_migrate
from demo.nightly import add_demo_nightly


def load_settings(args: argparse.Namespace) -> Settings:
    """Every setting checked once, before anything starts; a mistake ends here with exit code 2."""
    try:
        settings, unknown = settings_load.load()
    except ConfigError as exc:
        refuse(exc.problems, doctor=args.cmd == "doctor")
    # A variable the user named for the migration CLI's token is theirs, not a misspelled setting.
    mine = getattr(args, "token_env", None)
    unknown = [line for line in unknown if not (mine and line.startswith(f"{mine} "))]
    if unknown and serves_slack(args, settings):
        # In Slack a misspelled access or route setting would silently change who may do what.
        refuse(unknown, doctor=False)
    for line in unknown:
        print(f"amd-bot: warning: {line}", file=sys.stderr)
    return settings


def serves_slack(args: argparse.Namespace, settings: Settings) -> bool:
    return args.cmd == "serve" or (args.cmd is None and settings.slack_mode != "console")


def refuse(problems: list[str], *, doctor: bool) -> NoReturn:
    if doctor:  # the doctor's answer is its lines: the settings' problems are its first findings
        print(report([Finding("settings", "FAIL", problem) for problem in problems]))
    else:
        for problem in problems:
            print(f"amd-bot: configuration error: {problem}", file=sys.stderr)
    raise SystemExit(2)


def refuse_unsafe_serving(settings: Settings, *, http: bool) -> None:
    refusal = settings.serve_refusal(http=http)
    if refusal is not None:
        print(f"amd-bot: refusing to start: {refusal}.", file=sys.stderr)
        raise SystemExit(2)


class CurrentStderr(logging.StreamHandler[TextIO]):
    """Writes to `sys.stderr` as it is at each record: under the console's prompt that is prompt_toolkit's
    proxy, which prints above the prompt instead of through it."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """StreamHandler.__init__ sets it; the property always follows sys.stderr instead."""


def configure_logging(settings: Settings, *, console: bool, verbose: bool) -> None:
    """A console's log goes to a file under AMD_HOME (and to stderr with -v): log lines printed between
    answers read like part of them. A server logs to stderr, where its platform collects it, as
    AMD_LOG_FORMAT says (plain, or JSON lines)."""
    level = logging.DEBUG if verbose else logging.INFO if console else logging.WARNING
    handlers: list[logging.Handler] = []
    if console:
        settings.home.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(settings.home / runtime.LOG_FILE, encoding="utf-8"))
    if verbose or not console:
        handlers.append(CurrentStderr())
    # JSON lines are for a log platform: the console's reader is a person.
    logs.install(handlers, level=level, kind="plain" if console else settings.log_format)


def run_doctor(settings: Settings) -> int:
    """Prints one line per check; the exit status is 0 only when every check passed."""
    from bot.doctor import diagnose

    findings = asyncio.run(diagnose(settings))
    print(report(findings))
    return 0 if all(f.passed for f in findings) else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="amd-bot", description="Slack data-ops bot for the AMD.")
    top.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log debug details, to stderr as well",
    )
    sub = top.add_subparsers(dest="cmd")

    console = sub.add_parser("console", help="the local console (no Slack needed)")
    console.add_argument(
        "-c",
        dest="texts",
        action="append",
        default=[],
        metavar="TEXT",
        help="run this command (repeatable; `N` presses button N) and exit",
    )
    console.add_argument(
        "--wait",
        type=arguments.seconds,
        default=0.0,
        metavar="SECONDS",
        help="follow cards that are still changing until they settle or time is up",
    )
    console.add_argument(
        "-q", "--quiet", action="store_true", help="with --wait: print a live card's final state only"
    )
    console.add_argument("--user", default="U_CONSOLE", help="Slack user id to act as (RBAC)")
    console.add_argument("--channel", default="C_CONSOLE", help="channel id to act in (RBAC)")

    serve = sub.add_parser("serve", help="connect to Slack (Socket Mode, or HTTP with --http)")
    serve.add_argument(
        "--http", action="store_true", help="serve Slack's HTTP endpoint instead of Socket Mode"
    )
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address")  # noqa: S104 - a server's job
    serve.add_argument("--port", type=arguments.port, default=8080)

    sub.add_parser("doctor", help="check every configured system; exit 0 only if all pass")

    demo = sub.add_parser("demo", help="the embedded demo world")
    demo_sub = demo.add_subparsers(dest="demo_cmd", required=True)
    build = demo_sub.add_parser("build", help="build (or rebuild with --force) the demo warehouse")
    build.add_argument("--force", action="store_true")
    add_demo_migrate(demo_sub)
    add_demo_nightly(demo_sub)
    add_migration_commands(sub)
    add_db_commands(sub)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = load_settings(args)
    # The doctor's own lines are its answer: what the adapters log goes to the file, as the console's.
    in_console = args.cmd in ("console", "doctor") or not serves_slack(args, settings)
    configure_logging(settings, console=in_console, verbose=args.verbose)
    try:
        start(args, settings)
    except ConfigError as exc:  # found once the dbt profile was read (e.g. its Snowflake connection)
        refuse(exc.problems, doctor=False)


def start(args: argparse.Namespace, settings: Settings) -> None:
    if getattr(args, "migration_handler", None):
        raise SystemExit(args.migration_handler(args, settings))
    if args.cmd == "console":
        runtime.run(
            runtime.console(
                settings,
                args.texts,
                wait_s=args.wait,
                user=args.user,
                channel=args.channel,
                quiet=args.quiet,
            )
        )
    elif args.cmd == "serve":
        refuse_unsafe_serving(settings, http=args.http)
        runtime.run(runtime.serve(settings, http=args.http, host=args.host, port=args.port))
    elif args.cmd == "doctor":
        raise SystemExit(run_doctor(settings))
    elif args.cmd == "demo" and args.demo_cmd == "build":
        from demo.world import ensure_demo

        bar = runtime.ProgressBar()
        runtime.run(ensure_demo(settings, force=args.force, progress=bar))
        if not bar.drawing:
            print("amd-bot: the demo world is current; `demo build --force` rebuilds it.", file=sys.stderr)
    elif settings.slack_mode == "console":
        print("amd-bot: no Slack tokens set; starting the local console (embedded demo).", file=sys.stderr)
        runtime.run(runtime.console(settings, [], wait_s=0, user="U_CONSOLE", channel="C_CONSOLE"))
    else:
        http = settings.slack_mode == "http"
        refuse_unsafe_serving(settings, http=http)
        print(f"amd-bot: connecting to Slack ({settings.slack_mode} mode).", file=sys.stderr)
        runtime.run(runtime.serve(settings, http=http, host="0.0.0.0", port=8080))  # noqa: S104


if __name__ == "__main__":
    main()
