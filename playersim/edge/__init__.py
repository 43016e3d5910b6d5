"""Adobe's Media Edge API as a wire dialect: the same players, other paths and bodies.

`mapping` turns an MCA body into a Media Edge event and back (one table of names, used both
ways); `wire` is the Edge request model the collector validates with, built from Adobe's
published OpenAPI contract; `dialect` is how delivery sends a session over Edge.
"""
