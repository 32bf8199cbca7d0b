"""Studio's command line: the same jobs as the app, headless.

    studio                      open the app
    studio diff                 plan the workspace's schema against a database; write pending_migrations.sql
    studio diff --from A --to B print the SQL that turns database A into database B
    studio deploy               plan, confirm hazards, apply atomically and record the migration
    studio migrations           compare local migration files with the database's history
    studio login / logout / accounts / projects / link   connect to Supabase (see `studio.cli_connect`)
    studio doctor               check this computer: password store, local database, network, folders
    studio --version            print Studio's version

`diff`, `deploy` and `migrations` work on the local project unless given `--db-url`, `--project REF` or
`--linked` (the project `studio link` recorded in the workspace).

Exit codes follow migra's convention: 0 nothing to do (or done), 2 changes found, 1 error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from studio import __version__, cli_connect, cli_generate
from studio.core import doctor
from studio.core.doctor import NETWORK_TIMEOUT
from studio.core.errors import StudioError
from studio.core.lint import Finding, lint_catalog
from studio.core.migrations.apply import apply_plan
from studio.core.migrations.files import pending_migrations_path, write_atomic
from studio.core.migrations.status import compare_history
from studio.core.model import load_model, save_model, validate
from studio.core.model.importer import model_from_catalog
from studio.core.platform.context import PlatformContext
from studio.core.schema.diff import diff
from studio.core.schema.introspect import introspect, introspect_pair
from studio.core.schema.plan import Plan, PlanOptions
from studio.core.schema.planner import count_rows_at_risk, make_plan
from studio.core.schema.render import render_plan
from studio.core.schema.shadow import desired_catalog, schema_files
from studio.core.targets.base import Target
from studio.core.targets.cloud import CloudTarget
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget
from studio.core.words import plural
from studio.core.workspace_file import read_link

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

log = logging.getLogger("studio.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="Build, review and deploy your Supabase backend.")
    parser.add_argument("--version", action="version", version=f"Studio {__version__}")
    parser.add_argument("--debug", action="store_true", help="show details of unexpected errors")
    commands = parser.add_subparsers(dest="command")

    def add_target_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--workspace", type=Path, default=Path.cwd(),
                         help="the app's folder, laid out like the Supabase CLI's (default: current folder)")
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--local", action="store_true", help="the local project on this computer (default)")
        where.add_argument("--db-url", metavar="URL", help="any PostgreSQL connection string")
        where.add_argument("--project", metavar="REF",
                           help="a Supabase project, through the Management API (signed in with `studio login`)")
        where.add_argument("--linked", action="store_true",
                           help="the Supabase project the workspace is linked to (`studio link`)")

    def add_plan_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--concurrent-indexes", action="store_true",
                         help="build indexes on existing tables CONCURRENTLY (outside the transaction)")
        sub.add_argument("--lock-timeout", default="5s", help="longest wait for a lock per statement (default 5s)")
        sub.add_argument("--statement-timeout", default="5min",
                         help="longest run of one statement (default 5min)")

    commands.add_parser("app", help="open the app (the default)")
    p_diff = commands.add_parser("diff", help="show the changes that would make a database match the schema files")
    add_target_options(p_diff)
    add_plan_options(p_diff)
    p_diff.add_argument("--from", dest="from_url", metavar="URL", help="compare two databases: the one to change")
    p_diff.add_argument("--to", dest="to_url", metavar="URL", help="compare two databases: the one to match")

    p_deploy = commands.add_parser("deploy", help="apply the schema files to a database, safely")
    add_target_options(p_deploy)
    add_plan_options(p_deploy)
    p_deploy.add_argument("--yes", action="store_true", help="do not ask before applying changes with hazards")
    p_deploy.add_argument("--name", default="studio_deploy", help="name of the migration (default studio_deploy)")

    p_migrations = commands.add_parser("migrations", help="compare local migration files with the database's history")
    add_target_options(p_migrations)
    p_import = commands.add_parser("import", help="read the data model from a database into studio.json")
    add_target_options(p_import)
    p_import.add_argument("--schema", default="public", help="the schema to read (default public)")
    p_import.add_argument("--force", action="store_true", help="replace an existing data model")
    p_doctor = commands.add_parser("doctor", help="check that this computer can run Studio, with a fix for each"
                                                  " problem")
    p_doctor.add_argument("--timeout", type=float, default=NETWORK_TIMEOUT,
                          help=f"seconds to wait for the platform to answer (default {NETWORK_TIMEOUT:.0f})")
    cli_connect.add_commands(commands)
    cli_generate.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `studio` command."""
    args = _parser().parse_args(argv)
    if args.command in (None, "app"):
        from studio.app import main as app_main

        return app_main()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handler = {"diff": _diff, "deploy": _deploy, "migrations": _migrations, "import": _import, "doctor": _doctor,
               **cli_connect.COMMANDS, **cli_generate.COMMANDS}[args.command]
    try:
        return asyncio.run(handler(args))
    except StudioError as exc:
        _error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _error("Stopped. Nothing more was changed.")
        return EXIT_ERROR
    except Exception as exc:  # our bug: say so plainly, details with --debug
        if args.debug:
            raise
        _error(f"Studio hit an unexpected problem: {type(exc).__name__}: {exc}\n"
               "Run again with --debug for details, and please report it.")
        return EXIT_ERROR


def _error(text: str, stream: TextIO | None = None) -> None:
    print(f"studio: {text}", file=stream or sys.stderr)


def _options(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(lock_timeout=args.lock_timeout or None, statement_timeout=args.statement_timeout or None,
                       concurrent_indexes=args.concurrent_indexes)


class _Session:
    """The local server and the target a command works on; closes them on exit."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack
        self._server: LocalServer | None = None

    async def server(self) -> LocalServer:
        """The local embedded server, started (and stopped when the command ends)."""
        if self._server is None:
            server = LocalServer()
            await asyncio.to_thread(server.start)
            self.stack.callback(server.stop)
            await asyncio.to_thread(server.ensure_supabase_base)
            self._server = server
        return self._server

    async def target(self, args: argparse.Namespace) -> Target:
        """The database the command is about: `--db-url`, `--project`/`--linked`, or the local project."""
        if args.project or args.linked:
            return await self._cloud_target(args)
        if args.db_url:
            target: Target = PostgresTarget(args.db_url)
        else:
            target = (await self.server()).local_target()
        self.stack.push_async_callback(target.close)
        return target

    async def _cloud_target(self, args: argparse.Namespace) -> Target:
        context = PlatformContext.open()
        workspace: Path = args.workspace.resolve()
        link = read_link(workspace)
        if args.linked and link is None:
            raise StudioError(f"{workspace} is not linked to a Supabase project.",
                              hint="Link it with `studio link <ref>`, or pass --project <ref>.")
        ref = args.project or (link.ref if link else "")
        uses_link = link is not None and link.ref == ref
        session = context.session(link.account_id if uses_link and link else None)
        client = session.client(on_retry=lambda message, _: print(f"studio: {message}", file=sys.stderr, flush=True))
        self.stack.push_async_callback(client.aclose)
        project = await client.project(ref)
        return CloudTarget(client, project.ref, name=project.name)

    def open_url(self, url: str) -> Target:
        """A target on `url`, closed when the command ends."""
        target = PostgresTarget(url)
        self.stack.push_async_callback(target.close)
        return target


async def _workspace_plan(session: _Session, args: argparse.Namespace) -> tuple[Target, Plan, list[Finding]]:
    workspace: Path = args.workspace.resolve()
    schemas_dir = workspace / "supabase" / "schemas"
    files = schema_files(schemas_dir)
    if not files:
        raise StudioError(
            f"No schema files in {schemas_dir}.",
            hint="Studio compares the database with supabase/schemas/*.sql. Create them (studio generate or by"
                 " hand), or pass --workspace with the folder of your app.")
    server = await session.server()
    desired = await desired_catalog(server, files, base_dir=workspace)
    target = await session.target(args)
    plan = await make_plan(target, desired, _options(args))
    return target, plan, lint_catalog(desired)


def _lint_lines(findings: list[Finding]) -> list[str]:
    """The schema's lint findings as lines for people (empty when there are none)."""
    if not findings:
        return []
    lines = [f"Checks on the desired schema: {plural(len(findings), 'finding')}"]
    for finding in findings:
        lines.append(f"  [{finding.level.value}] {finding.title} ({finding.object_key})")
        lines.append(f"      {finding.explanation}")
        lines.append(f"      Fix: {finding.fix.splitlines()[0]}" if finding.fix else "")
    return [line for line in lines if line]


def _header(target: Target, title: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{title}\nDatabase: {target.description}\nMade by Studio {__version__} at {now}"


async def _diff(args: argparse.Namespace) -> int:
    async with AsyncExitStack() as stack:
        session = _Session(stack)
        if args.from_url or args.to_url:
            if not (args.from_url and args.to_url):
                raise StudioError("--from and --to go together.", hint="Give both connection strings.")
            source = session.open_url(args.from_url)
            wanted = session.open_url(args.to_url)
            options = _options(args)
            live, desired = await introspect_pair(source, wanted)
            plan = diff(live, desired, options)
            await count_rows_at_risk(source, plan)
            header = _header(source, f"Changes that make it match {wanted.description}")
            sys.stdout.write(render_plan(plan, header=header))
            return EXIT_CHANGES if plan.changes else EXIT_OK
        target, plan, findings = await _workspace_plan(session, args)
        checks = _lint_lines(findings)
        header = _header(target, "Pending migration: review before deploying")
        text = render_plan(plan, header="\n".join([header, *(["", *checks] if checks else [])]))
        path = pending_migrations_path(args.workspace.resolve())
        write_atomic(path, text)
        sys.stdout.write(text)
        for line in checks:
            print(f"studio: {line}", file=sys.stderr)
        print(f"studio: {plural(len(plan.changes), 'change')}; written to {path}", file=sys.stderr)
        return EXIT_CHANGES if plan.changes else EXIT_OK


def _summary(plan: Plan, out: TextIO) -> int:
    hazards = 0
    for change in plan.changes:
        print(f"  [{change.id}] {change.title}", file=out)
        for hazard in change.hazards:
            hazards += 1
            print(f"        ! {hazard.kind.value.replace('_', ' ')}: {hazard.message}", file=out)
    for item in plan.not_handled:
        print(f"  not handled: {item}", file=out)
    return hazards


async def _deploy(args: argparse.Namespace) -> int:
    async with AsyncExitStack() as stack:
        session = _Session(stack)
        target, plan, findings = await _workspace_plan(session, args)
        for line in _lint_lines(findings):
            print(line)
        if plan.empty:
            print(f"Nothing to deploy: {target.description} already matches supabase/schemas.")
            return EXIT_OK
        print(f"Deploying {plural(len(plan.changes), 'change')} to {target.description}:")
        # A schema check at error level (a table open to anyone, a policy that recurses) needs the same
        # confirmation as a hazard.
        hazards = _summary(plan, sys.stdout) + sum(1 for f in findings if f.level.value == "error")
        if hazards and not args.yes:
            if not sys.stdin.isatty():
                raise StudioError(f"This deploy has {hazards} hazard(s) and nobody is here to confirm them.",
                                  hint="Read them above, then run again with --yes to deploy anyway.")
            answer = input(f"{hazards} hazard(s) above. Type 'yes' to deploy: ").strip().lower()
            if answer != "yes":
                print("Cancelled. Nothing was changed.")
                return EXIT_ERROR

        def progress(index: int, total: int, title: str) -> None:
            print(f"  ({index}/{total}) {title}", flush=True)

        applied = await apply_plan(target, plan, workspace=args.workspace.resolve(), name=args.name,
                                   on_progress=progress)
        pending = pending_migrations_path(args.workspace.resolve())
        if pending.exists():
            pending.unlink()
        where = f" and {applied.path}" if applied.path else ""
        print(f"Applied migration {applied.version} ({applied.name}); recorded in"
              f" supabase_migrations.schema_migrations{where}.")
        return EXIT_OK


async def _migrations(args: argparse.Namespace) -> int:
    async with AsyncExitStack() as stack:
        session = _Session(stack)
        target = await session.target(args)
        report = await compare_history(target, args.workspace.resolve())
        print(f"Migrations of {args.workspace.resolve()} against {target.description}:")
        print(f"  {len(report.local)} local file(s), {len(report.remote)} applied in the database,"
              f" {len(report.versions_in_sync)} in sync.")
        for finding in report.findings:
            print(f"  ! {finding.version}: {finding.message}\n      {finding.action}")
        for notice in report.ignored_notices:
            print(f"  note: {notice}")
        if report.ok:
            print("Local files and the database's history agree.")
        return EXIT_OK if report.ok else EXIT_CHANGES


async def _import(args: argparse.Namespace) -> int:
    workspace: Path = args.workspace.resolve()
    if load_model(workspace) is not None and not args.force:
        raise StudioError(f"{workspace} already has a data model in studio.json.",
                          hint="Add --force to replace it with the one read from the database.")
    async with AsyncExitStack() as stack:
        target = await _Session(stack).target(args)
        catalog = await introspect(target)
        result = model_from_catalog(catalog, schema=args.schema, name=workspace.name or "Imported app")
    save_model(workspace, result.model)
    print(f"Read {len(result.model.entities)} entities and {len(result.model.links)} links from"
          f" {target.description} into {workspace / 'studio.json'}.")
    for note in result.notes:
        print(f"  note: {note}")
    problems = validate(result.model)
    for problem in problems:
        print(f"  to fix before generating: {problem}")
    return EXIT_OK


async def _doctor(args: argparse.Namespace) -> int:
    """Run the checks, printing each as it finishes; 0 when all passed, 1 otherwise."""
    system = doctor.versions()
    print(f"Studio {system['Studio']} (Python {system['Python']}, PostgreSQL {system['PostgreSQL']},"
          f" {system['System']})", flush=True)

    def report(check: doctor.Check) -> None:
        print(doctor.format_check(check), flush=True)

    checks = await asyncio.to_thread(doctor.run_checks, on_check=report, timeout=args.timeout)
    print(doctor.summary(checks))
    return EXIT_OK if all(check.ok for check in checks) else EXIT_ERROR
