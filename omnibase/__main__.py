"""``python -m omnibase``: the command line."""

import sys

from omnibase.cli import main

if __name__ == "__main__":
    sys.exit(main())
