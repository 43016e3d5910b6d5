"""The `playersim` command line: `run`, `serve`, `replay`, `profiles`, `check`."""

from playersim.cli.app import main

__all__ = ["main"]
