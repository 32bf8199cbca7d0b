"""The generate commands of `studio`: templates, the data model, and the files made from it.

    studio templates                          list the templates to start from
    studio generate --template NAME           start the workspace's data model from a template, and generate
    studio generate                           regenerate every file from the workspace's studio.json
    studio import                             read the data model from an existing database into studio.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.core.errors import StudioError, WorkspaceError
from studio.core.generate.workspace import CLIENT_TARGETS, generate_files, write_files
from studio.core.model import load_model, save_model
from studio.core.model.templates import TEMPLATES, template
from studio.core.workspace_file import read_link


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the generate commands to `studio`'s parser."""
    commands.add_parser("templates", help="list the data model templates")
    p_generate = commands.add_parser("generate", help="generate schema, policies, seed and client code")
    p_generate.add_argument("--workspace", type=Path, default=Path.cwd(), help="the app's folder (default: current)")
    p_generate.add_argument("--template", help="start the data model from this template (see `studio templates`)")
    p_generate.add_argument("--force", action="store_true", help="with --template: replace an existing data model")
    p_generate.add_argument("--clients", default=",".join(CLIENT_TARGETS),
                            help=f"client code to generate, comma-separated (default: {','.join(CLIENT_TARGETS)};"
                                 " empty for none)")


async def _templates(args: argparse.Namespace) -> int:
    width = max(len(t.name) for t in TEMPLATES)
    for item in TEMPLATES:
        print(f"{item.name:<{width}}  {item.title}: {item.summary}")
    return 0


async def _generate(args: argparse.Namespace) -> int:
    workspace: Path = args.workspace.resolve()
    if args.template:
        try:
            chosen = template(args.template)
        except KeyError as exc:
            raise StudioError(f"There is no template “{args.template}”.",
                              hint=f"Choose one of: {', '.join(t.name for t in TEMPLATES)}.") from exc
        if load_model(workspace) is not None and not args.force:
            raise WorkspaceError(f"{workspace} already has a data model in studio.json.",
                                 hint="Run `studio generate` to regenerate from it, or add --force to replace it"
                                      " with the template.")
        model = chosen.build()
    else:
        existing = load_model(workspace)
        if existing is None:
            raise WorkspaceError(f"{workspace} has no data model yet.",
                                 hint="Start from a template: `studio generate --template todo` (see `studio"
                                      " templates`), or read one from a database with `studio import`.")
        model = existing
    link = read_link(workspace)
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    files = generate_files(model, clients=clients, project_url=link.api_url if link else None,
                           workspace=workspace)
    if args.template:
        save_model(workspace, model)
    written = write_files(workspace, files)
    print(f"Generated {len(files)} file(s) for “{model.name}” in {workspace}"
          f" ({len(written)} changed{', studio.json written' if args.template else ''}).")
    for path in written:
        print(f"  {path.relative_to(workspace)}")
    print("Next: `studio diff` to review the changes, then `studio deploy`.")
    return 0


COMMANDS = {"templates": _templates, "generate": _generate}
