"""`python -m playersim` is the `playersim` command."""

import sys

from playersim.cli import main

if __name__ == "__main__":
    sys.exit(main())
