"""`python -m playersim` is the `playersim` command."""

import sys

from playersim.cli import main

sys.exit(main())
