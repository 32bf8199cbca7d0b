"""The connect commands of `studio`: accounts, projects and links, headless.

    studio login                    sign in with a personal access token (prompted, or on standard input)
    studio login --oauth            sign in through the browser with an OAuth app
    studio logout                   sign out of the active account (revoking its OAuth tokens)
    studio accounts [use ACCOUNT]   list the signed-in accounts, or switch to another
    studio projects                 list organizations and their projects
    studio projects regions --org   regions a project can be created in
    studio projects create NAME     create a project and wait until it is ready
    studio link REF                 link the workspace to a project: keys in the keyring, link in studio.json
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import webbrowser
from pathlib import Path

from studio.core.errors import SignInFailed, StudioError
from studio.core.platform.api_check import ApiCheck
from studio.core.platform.context import PlatformContext
from studio.core.platform.linking import link_project
from studio.core.platform.oauth import OAuthClient
from studio.core.platform.provisioning import ProvisioningProgress, create_project, wait_until_ready
from studio.core.platform.session import sign_in_with_browser, sign_in_with_token, sign_out
from studio.core.secrets import Secret

TOKEN_VARIABLE = "SUPABASE_ACCESS_TOKEN"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the connect commands to `studio`'s parser."""
    p_login = commands.add_parser("login", help="sign in to a Supabase account")
    p_login.add_argument("--token-stdin", action="store_true",
                         help=f"read the access token from standard input (else ${TOKEN_VARIABLE}, else a prompt)")
    p_login.add_argument("--oauth", action="store_true", help="sign in through the browser with an OAuth app")
    p_login.add_argument("--client-id", help="the OAuth app's client id (remembered)")
    p_login.add_argument("--client-secret-stdin", action="store_true",
                         help="read the OAuth app's client secret from standard input (else keyring, else prompt)")
    p_login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser (default 300)")

    p_logout = commands.add_parser("logout", help="sign out (tokens revoked and removed from the keyring)")
    which = p_logout.add_mutually_exclusive_group()
    which.add_argument("--account", help="the account to sign out of (default: the active one)")
    which.add_argument("--all", action="store_true", help="sign out of every account")

    p_accounts = commands.add_parser("accounts", help="list signed-in accounts, or switch with `accounts use`")
    p_accounts.add_argument("action", nargs="?", choices=["use"], help="switch the active account")
    p_accounts.add_argument("account", nargs="?", help="e-mail, user name or id of the account to use")

    p_projects = commands.add_parser("projects", help="list organizations and projects, or create one")
    p_projects.add_argument("--account", help="act as this account (default: the active one)")
    p_projects.add_argument("--org", help="only this organization (its slug)")
    sub = p_projects.add_subparsers(dest="projects_command")
    p_regions = sub.add_parser("regions", help="regions a project of the organization can be created in")
    p_regions.add_argument("--org", required=True, help="the organization's slug")
    p_create = sub.add_parser("create", help="create a project and wait until it is ready")
    p_create.add_argument("name", help="the project's name")
    p_create.add_argument("--org", required=True, help="the organization's slug")
    p_create.add_argument("--region", required=True, help="region code, e.g. eu-central-1 (see `projects regions`)")
    p_create.add_argument("--no-wait", action="store_true", help="return once Supabase accepted the request")
    p_create.add_argument("--workspace", type=Path, help="also link this workspace to the new project")

    p_link = commands.add_parser("link", help="link the workspace to a Supabase project")
    p_link.add_argument("ref", help="the project's ref (20 letters; see `studio projects`)")
    p_link.add_argument("--workspace", type=Path, default=Path.cwd(), help="the app's folder (default: current)")
    p_link.add_argument("--account", help="act as this account (default: the active one)")
    p_link.add_argument("--no-check", action="store_true", help="do not check the project's API with its keys")


def _notice(message: str, seconds: float) -> None:
    print(f"studio: {message}", file=sys.stderr, flush=True)


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return getpass.getpass(prompt)


async def _login(args: argparse.Namespace) -> int:
    context = PlatformContext.open()
    if args.oauth:
        client_id = args.client_id or context.registry.oauth_client_id
        if not client_id:
            raise SignInFailed("Studio needs the OAuth app's client id.",
                               hint="Pass --client-id (from your OAuth app's page on supabase.com).")
        secret = None if args.client_secret_stdin else context.store.get_oauth_client_secret(client_id)
        if secret is None:
            secret = Secret(_read_secret("OAuth client secret: ", args.client_secret_stdin))
        client = OAuthClient(client_id=client_id, client_secret=secret)

        def open_browser(url: str) -> bool:
            print(f"Opening your browser to sign in. If it does not open, visit:\n  {url}", flush=True)
            try:
                return webbrowser.open(url)
            except webbrowser.Error:
                return False

        account = await sign_in_with_browser(client, store=context.store, registry=context.registry,
                                             endpoints=context.endpoints, open_browser=open_browser,
                                             timeout=args.timeout)
    else:
        text = os.environ.get(TOKEN_VARIABLE, "")
        if args.token_stdin or not text:
            text = _read_secret("Supabase access token: ", args.token_stdin)
        account = await sign_in_with_token(text, store=context.store, registry=context.registry,
                                           endpoints=context.endpoints)
    print(f"Signed in as {account.label}. Secrets are kept in {context.store.report.name}.")
    return 0


async def _logout(args: argparse.Namespace) -> int:
    context = PlatformContext.open()
    accounts = context.registry.accounts() if args.all else [context.account(args.account)]
    for account in accounts:
        revoked = await sign_out(account, store=context.store, registry=context.registry, endpoints=context.endpoints)
        note = "" if revoked else " (Supabase could not be told; its tokens expire on their own)"
        print(f"Signed out of {account.label}{note}.")
    if not accounts:
        print("Not signed in to any account.")
    return 0


async def _accounts(args: argparse.Namespace) -> int:
    context = PlatformContext.open()
    if args.action == "use":
        if not args.account:
            raise StudioError("Which account?", hint="Give its e-mail, user name or id: `studio accounts use EMAIL`.")
        account = context.account(args.account)
        context.registry.set_active(account.id)
        print(f"Now using {account.label}.")
        return 0
    active = context.registry.active()
    accounts = context.registry.accounts()
    if not accounts:
        print("Not signed in. Use `studio login`.")
    for account in accounts:
        marker = "*" if active and account.id == active.id else " "
        how = "browser sign-in" if account.kind == "oauth" else "access token"
        print(f"{marker} {account.label}  ({how})")
    return 0


async def _projects(args: argparse.Namespace) -> int:
    context = PlatformContext.open()
    session = context.session(args.account)
    async with session.client(on_retry=_notice) as client:
        if args.projects_command == "regions":
            for region in await client.available_regions(args.org):
                star = "  (recommended)" if region.recommended else ""
                print(f"{region.code:16} {region.name}{star}")
            return 0
        if args.projects_command == "create":
            project = await create_project(client, context.store, organization_slug=args.org, name=args.name,
                                           region=args.region)
            print(f"Created {project.name} ({project.ref}) in {project.region}; database password stored in"
                  f" {context.store.report.name}.", flush=True)
            if not args.no_wait:
                def progress(update: ProvisioningProgress) -> None:
                    print(f"  [{update.elapsed:5.0f} s] {update.status}: {update.message}", flush=True)

                await wait_until_ready(client, project.ref, on_progress=progress)
                print(f"{project.name} is ready.")
            if args.workspace is not None:
                result = await link_project(session, client, project.ref, workspace=args.workspace.resolve(),
                                            check_api=not args.no_wait)
                _print_link(result.project.name, result.project.ref, result.api_url, result.checks)
            return 0
        organizations = await client.organizations()
        if args.org:
            organizations = [o for o in organizations if o.slug == args.org]
            if not organizations:
                raise StudioError(f"{session.account.label} is not a member of an organization `{args.org}`.",
                                  hint="Run `studio projects` to see the organizations.")
        for organization in organizations:
            print(f"{organization.name} ({organization.slug})")
            projects = await client.projects(organization.slug)
            for project in projects:
                print(f"  {project.ref}  {project.name:30} {project.region:14} {project.status}")
            if not projects:
                print("  (no projects)")
        return 0


def _print_link(name: str, ref: str, api_url: str, checks: tuple[ApiCheck, ...]) -> None:
    print(f"Linked to {name} ({ref}), API {api_url}.")
    for check in checks:
        print(f"  {check.part}: {'ok' if check.ok else 'problem'} - {check.message}")


async def _link(args: argparse.Namespace) -> int:
    context = PlatformContext.open()
    session = context.session(args.account)
    async with session.client(on_retry=_notice) as client:
        result = await link_project(session, client, args.ref, workspace=args.workspace.resolve(),
                                    check_api=not args.no_check)
    _print_link(result.project.name, result.project.ref, result.api_url, result.checks)
    print(f"Keys stored in {context.store.report.name}: {result.keys.client_key_kind} (for your app) and"
          f" {result.keys.server_key_kind} (for Studio only).")
    return 0 if result.api_works else 2


COMMANDS = {"login": _login, "logout": _logout, "accounts": _accounts, "projects": _projects, "link": _link}
