"""Entry point of the frozen app: the same as `python -m studio` (no arguments opens the app)."""

import sys

from studio.launcher import main

if __name__ == "__main__":
    sys.exit(main())
