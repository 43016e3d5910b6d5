"""The installed playersim's version, for `--version` and the package."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("playersim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
