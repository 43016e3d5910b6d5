"""The public API is exactly what `playersim.__all__` says."""

from __future__ import annotations

import playersim


def test_every_exported_name_exists_and_is_public() -> None:
    """Each name in __all__ resolves, and everything public in the namespace is exported."""
    for name in playersim.__all__:
        assert hasattr(playersim, name), name
    public = {
        name
        for name, value in vars(playersim).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("playersim")
    }
    assert public <= set(playersim.__all__), public - set(playersim.__all__)
