"""Integrations with other tools, each behind its own extra (`pip install "playersim[locust]"`).

Nothing here is imported by `playersim` itself: importing a module of this package is what
brings in the tool it integrates with.
"""
