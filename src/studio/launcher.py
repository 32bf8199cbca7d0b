"""The `studio` command's entry point: starts the app or `--version` without loading the command line.

The command line (`studio.cli`) imports the whole engine when it loads; the app and `--version` need
none of that up front, so they are dispatched here first and start sooner.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from studio import __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run `studio` with `argv` (default: the process's arguments); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in ([], ["app"]):
        from studio.app import main as app_main

        return app_main()
    if args == ["--version"]:
        print(f"Studio {__version__}")
        return 0
    from studio.cli import main as cli_main

    return cli_main(args)
