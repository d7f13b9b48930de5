"""The `ehumas` command: run the bot, check a configuration, migrate the database, review routing."""

from __future__ import annotations

import argparse
import logging
import sys
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot import logmask
from bot.config import PLACEHOLDER, ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.models import Citizen

T = TypeVar("T")
DEFAULT_CONFIG = "config.toml"
PLAYGROUND_DATABASE = "ehumas-playground.db"

_NO_CONFIG = """\
E-Humas bot: no configuration file at {path}.

To run the bot for real:
  1. cp config.example.toml {path}
  2. In [telegram], put the bot token from @BotFather and choose a webhook_secret
     (or set mode = "polling" if this server has no public https address).
  3. In [server], set public_url to the https address Telegram can reach.
  4. In each [[opd]], put the Telegram chat id of that agency's group; in [humas], the humas
     group's chat id and the Telegram user ids of the humas admins.
  5. Optional: fill in [whatsapp] with a Twilio account to serve WhatsApp citizens too.
  6. Check it:  .venv/bin/ehumas check-config {path}
Then `make run` again. The README explains each step.
"""


def _load(path: str) -> Settings | int:
    """Load settings or print why not; an int is the exit code to return."""
    if not Path(path).exists():
        print(_NO_CONFIG.format(path=path), file=sys.stderr)
        return 2
    try:
        return load_settings(path)
    except ConfigError as exc:
        print(f"Invalid configuration:\n{exc}", file=sys.stderr)
        return 2


def _cmd_check_config(args: argparse.Namespace) -> int:
    """ehumas check-config FILE."""
    settings = _load(args.file)
    if isinstance(settings, int):
        return settings
    errors, warnings = settings.security_review()
    for line in warnings:
        print(f"{args.file}: warning: {line}", file=sys.stderr)
    if errors:
        print("Unsafe configuration:\n" + "\n".join(f"{args.file}: {line}" for line in errors), file=sys.stderr)
        return 2
    note = ""
    if settings.placeholders():
        note = f" (placeholders still to fill in: {', '.join(settings.placeholders())})"
    print(f"{args.file}: OK: {settings.summary()}{note}")
    return 0


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    """ehumas db upgrade [--config FILE]."""
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    from storage.migrate import current_head, upgrade

    try:
        upgrade(settings.database.url)
    except Exception as exc:
        logging.getLogger(__name__).debug("migration failed", exc_info=True)
        print(f"Database migration failed for {settings.database.url.split('@')[-1]}: {exc}", file=sys.stderr)
        return 1
    # The revision is what `ehumas db downgrade` takes to come back to this release later.
    print(f"Database schema is up to date (revision {current_head()}).")
    return 0


def _cmd_db_downgrade(args: argparse.Namespace) -> int:
    """ehumas db downgrade REVISION [--config FILE] [--yes]."""
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    from storage.migrate import SchemaError, downgrade, schema_revision, steps_down

    url = settings.database.url
    where = url.split("@")[-1]
    try:
        current = schema_revision(url)
        if current is None:
            print(f"The database {where} has no schema: nothing to undo.", file=sys.stderr)
            return 1
        steps = steps_down(current, args.revision)
    except SchemaError as exc:
        print(f"Cannot go back: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        logging.getLogger(__name__).debug("reading the schema failed", exc_info=True)
        print(f"Cannot read the schema of {where}: {exc}", file=sys.stderr)
        return 1
    if not steps:
        print(f"The schema is at revision {current} already.")
        return 0
    undone = "\n".join(f"  {revision}  {what}" for revision, what in steps)
    if not args.yes:
        print(
            f"The schema is at revision {current}. Going back to {args.revision} undoes, newest first:\n{undone}\n"
            "What only these migrations hold (their tables and columns) is lost. Stop the bot, take a backup "
            "(`ehumas backup`), then run again with --yes."
        )
        return 0
    try:
        downgrade(url, args.revision)
    except Exception as exc:
        logging.getLogger(__name__).debug("downgrade failed", exc_info=True)
        print(f"Going back failed, nothing of it was kept ({where}): {exc}", file=sys.stderr)
        return 1
    print(f"The schema is at revision {args.revision} now; undone:\n{undone}")
    return 0


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one database transaction (committed if it returns) and return its result."""
    import asyncio

    from storage.engine import create_engine, create_session_factory

    async def run() -> T:
        engine = create_engine(settings.database.url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _cmd_purge(args: argparse.Namespace) -> int:
    """ehumas purge [--config FILE] [--dry-run]."""
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    from bot.runtime.retention import policy_of
    from handlers import retention
    from handlers.clock import Clock

    policy = policy_of(settings)
    report = _in_transaction(
        settings, lambda session: retention.purge(session, policy, now=Clock().now(), dry_run=args.dry_run)
    )
    print("Would remove (dry run, nothing changed):" if args.dry_run else "Removed:")
    for line in report.lines():
        print(f"  {line}")
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    """ehumas forget [--config FILE] --citizen KDI-0042|telegram:<chat id>|whatsapp:+62... [--yes]."""
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    import getpass

    from bot.app import build_desk
    from handlers import forget
    from handlers.clock import Clock
    from storage import citizens, erasure

    desk = build_desk(settings, Clock())
    who: str = args.citizen.strip()

    async def find(session: AsyncSession) -> Citizen | None:
        if desk.parse_ticket(who) is not None:
            return await forget.citizen_of_ticket(session, desk, who)
        channel, _, address = who.partition(":")
        if channel == "whatsapp" and not address.startswith("whatsapp:"):
            address = "whatsapp:" + address  # as Twilio writes it
        return await citizens.find_citizen(session, channel=channel, address=address)

    async def work(session: AsyncSession) -> str:
        citizen = await find(session)
        if citizen is None:
            return f"No citizen {who}."
        if erasure.is_forgotten(citizen):
            return f"The citizen {who} was forgotten already."
        tickets = ", ".join(await forget.tickets_of(session, desk, citizen)) or "no complaints"
        if not args.yes:
            return (
                f"Would erase the name, contact, messages and photos of the citizen {who} ({tickets}); "
                "the complaints stay, anonymous. Run again with --yes to do it."
            )
        done = await forget.forget(session, desk, citizen, actor=f"shell ({getpass.getuser()})", target=who[:64])
        return (
            f"Forgotten: {who} ({tickets}): {done.complaints} complaints anonymised, {done.messages} messages and "
            f"{done.photos} photos erased, {done.inbound_events} raw messages stripped; the citizen is told."
        )

    print(_in_transaction(settings, work))
    return 0


def _real_token_configured(path: str) -> bool:
    """Whether a configuration file may hold a real Telegram token: fails closed.

    Only a missing file, or one whose [telegram] token is empty or the example's placeholder, lets
    the playground run: a file with a real token and a typo elsewhere (which the loader refuses) is
    still a real deployment's, and so is a file that cannot be read at all.
    """
    file = Path(path)
    if not file.exists():
        return False
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    telegram = data.get("telegram")
    token = telegram.get("token", "") if isinstance(telegram, dict) else ""
    return token not in ("", PLACEHOLDER)


def _playground(args: argparse.Namespace, tour: bool = False) -> int:
    """Run the local playground (or its scripted tour)."""
    if _real_token_configured(args.config):
        print(
            f"{args.config} holds a real Telegram token (or cannot be read): the playground refuses to run "
            f"next to a real configuration. Use `ehumas run --config {args.config}` for the real bot.",
            file=sys.stderr,
        )
        return 2
    import asyncio

    # The playground prints one line; library chatter stays out of the way.
    logging.getLogger().setLevel(logging.WARNING)
    from bot.playground.runner import PlaygroundBusy

    if tour:
        from bot.playground.tour import TourStepFailed, run_tour

        # The tour plays on a database of its own unless told otherwise: never on a running playground's.
        try:
            asyncio.run(run_tour(print, Path(args.database) if args.database else None))
        except PlaygroundBusy as exc:
            print(exc, file=sys.stderr)
            return 1
        except (TimeoutError, OSError, TourStepFailed) as exc:
            print(f"The tour stopped: {exc}", file=sys.stderr)
            return 1
        return 0
    from bot.playground.runner import serve_forever

    database = Path(args.database or PLAYGROUND_DATABASE)
    try:
        asyncio.run(serve_forever(args.port, database, lambda line: print(line, flush=True)))
    except PlaygroundBusy as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot start the playground on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_playground(args: argparse.Namespace) -> int:
    """ehumas playground [--tour] [--port N]."""
    return _playground(args, tour=args.tour)


def _cmd_run(args: argparse.Namespace) -> int:
    """ehumas run [--config FILE] [--playground]."""
    if args.playground or not Path(args.config).exists():
        # No configuration yet: show the whole desk working locally instead of failing.
        return _playground(args)
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    from bot import logsetup

    # From here on every line is in the configured format ([log]), the warnings below included.
    logsetup.configure(settings.log, verbose=args.verbose)
    if settings.placeholders():
        print(
            f"{args.config}: replace the example values first: {', '.join(settings.placeholders())}.",
            file=sys.stderr,
        )
        return 2
    errors, warnings = settings.security_review()
    for line in warnings:
        logging.getLogger(__name__).warning("%s: %s", args.config, line)
    if errors:
        print(
            f"{args.config}: unsafe, not started (ehumas check-config explains):\n" + "\n".join(errors),
            file=sys.stderr,
        )
        return 2
    from bot.server import serve

    return serve(settings, migrate=not args.no_migrate, verbose=args.verbose)


def _cmd_backup(args: argparse.Namespace) -> int:
    """ehumas backup --config FILE DEST."""
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    from bot.backup import BackupError, backup

    try:
        written = backup(settings.database.url, args.dest)
    except (BackupError, OSError) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written: {written} ({written.stat().st_size} bytes)")
    return 0


def _cmd_routing(args: argparse.Namespace) -> int:
    """ehumas routing eval FILE.tsv | review [--since 30d] | train OUT FILE.tsv...  (--config FILE)."""
    settings = _load(args.config)
    if isinstance(settings, int):
        return settings
    from bot import routing_cli
    from bot.app import build_lexicon

    if args.routing_func == "eval":
        return routing_cli.run_eval(args.file, build_lexicon(settings), sys.stdout, show_all=args.all)
    if args.routing_func == "train":
        return routing_cli.run_train(args.out, args.files, settings, sys.stdout)
    try:
        return routing_cli.run_review(settings, sys.stdout, period=args.since, min_count=args.min_count, tsv=args.tsv)
    except Exception as exc:
        logging.getLogger(__name__).debug("routing review failed", exc_info=True)
        print(f"Routing review failed for {settings.database.url.split('@')[-1]}: {exc}", file=sys.stderr)
        return 1


def _playground_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="playground port on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--database",
        default=None,
        help=f"playground SQLite file, emptied at each start (default {PLAYGROUND_DATABASE}; "
        "the tour uses a temporary one); refused while another playground runs on it",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="ehumas", description="E-Humas: a city complaint desk bot.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the bot (HTTP server, Telegram, WhatsApp, deadlines)")
    run.add_argument("--config", default=DEFAULT_CONFIG, help=f"configuration file (default {DEFAULT_CONFIG})")
    run.add_argument("--no-migrate", action="store_true", help="do not apply database migrations at start")
    run.add_argument(
        "--playground",
        action="store_true",
        help="run the local playground (the default when the configuration file is missing)",
    )
    _playground_options(run)
    run.set_defaults(func=_cmd_run)

    play = commands.add_parser("playground", help="the whole desk on 127.0.0.1 with stand-ins, in a browser")
    play.add_argument("--tour", action="store_true", help="play a scripted story and print the transcript")
    play.add_argument("--config", default=DEFAULT_CONFIG, help="refuse to run if this file holds a real token")
    _playground_options(play)
    play.set_defaults(func=_cmd_playground)

    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file")
    check.set_defaults(func=_cmd_check_config)

    purge = commands.add_parser("purge", help="remove what [retention] says is old enough (the daily job, now)")
    purge.add_argument("--config", default=DEFAULT_CONFIG, help=f"configuration file (default {DEFAULT_CONFIG})")
    purge.add_argument("--dry-run", action="store_true", help="count what would be removed; change nothing")
    purge.set_defaults(func=_cmd_purge)

    forget = commands.add_parser("forget", help="erase a citizen's personal data (their complaints stay, anonymous)")
    forget.add_argument("--config", default=DEFAULT_CONFIG, help=f"configuration file (default {DEFAULT_CONFIG})")
    forget.add_argument(
        "--citizen", required=True, help="a ticket of theirs (KDI-0042), or telegram:<chat id>, or whatsapp:+62..."
    )
    forget.add_argument("--yes", action="store_true", help="do it (without: only say what would be erased)")
    forget.set_defaults(func=_cmd_forget)

    saving = commands.add_parser("backup", help="a consistent copy of the database, while the bot runs")
    saving.add_argument("--config", default=DEFAULT_CONFIG, help=f"configuration file (default {DEFAULT_CONFIG})")
    saving.add_argument("dest", help="file to write, or a directory for a time-stamped file")
    saving.set_defaults(func=_cmd_backup)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or update the schema")
    upgrade.add_argument("--config", default=DEFAULT_CONFIG)
    upgrade.set_defaults(func=_cmd_db_upgrade)
    downgrade = db_commands.add_parser(
        "downgrade", help="undo the migrations above a revision (going back to an earlier release)"
    )
    downgrade.add_argument("revision", help='the revision to go back to (its release printed it at upgrade), or "base"')
    downgrade.add_argument("--config", default=DEFAULT_CONFIG)
    downgrade.add_argument("--yes", action="store_true", help="do it (without: only say what would be undone)")
    downgrade.set_defaults(func=_cmd_db_downgrade)

    from bot.routing_cli import add_commands

    add_commands(commands, DEFAULT_CONFIG)
    commands.choices["routing"].set_defaults(func=_cmd_routing)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ehumas` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request at INFO: too chatty for an operator's console.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # ... and Alembic names each of its plugins at INFO whenever it reads the migrations.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logmask.install()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
