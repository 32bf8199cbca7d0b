"""`python -m studio` runs the command line (no arguments opens the app)."""

import sys

from studio.launcher import main

sys.exit(main())
