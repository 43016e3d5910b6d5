"""Every exception playersim raises on purpose has one root, `PlayersimError`.

Callers catch the root to report any of our failures without a traceback, and the subclasses
carry the context (a file, a field, a state) that their messages are written around.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EndpointUnreachableError",
    "PlayerProtocolError",
    "PlayersimError",
    "ProfileError",
    "ScriptError",
    "TransportError",
    "WireError",
]


class PlayersimError(Exception):
    """The root of every error playersim raises deliberately."""


class ProfileError(PlayersimError):
    """A profile file (or dict) is missing, unreadable or invalid.

    The message names the file, the field and the offending value.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class ScriptError(PlayersimError):
    """A scripted session's file or timeline is invalid, or a step cannot be carried out."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class WireError(PlayersimError):
    """A request body does not satisfy the MCA wire contract (MCA-SPEC.md sections 2 and 3)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class PlayerProtocolError(PlayersimError):
    """A player was asked to emit an event its current state does not allow.

    This is always a bug in playersim or in a custom behaviour: the state machine refuses the
    event rather than put a sequence on the wire that MCA-SPEC.md forbids.
    """

    def __init__(self, event_type: str, state: str, reason: str = "") -> None:
        # str() first: a StrEnum state's repr would show the enum, not the name users read.
        self.event_type = str(event_type)
        self.state = str(state)
        detail = f": {reason}" if reason else ""
        super().__init__(f"cannot send {self.event_type!r} in state {self.state!r}{detail}")


class TransportError(PlayersimError):
    """A request got no HTTP answer at all (connection refused, reset, timed out).

    An HTTP answer, even a 500, is a `Response`, never this exception.

    `maybe_delivered` says whether the request may have reached the server all the same: HTTP
    is at-least-once. A request that never got a connection (refused, no such host, no
    connection within the timeout) provably did not; one whose answer was lost (a timeout
    after it was sent, a connection closed under it) may have been taken, and a retry of it
    may then arrive twice.
    """

    def __init__(self, method: str, url: str, reason: str, *, maybe_delivered: bool = True) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        self.maybe_delivered = maybe_delivered
        super().__init__(f"{method} {url}: {reason}")


class EndpointUnreachableError(PlayersimError):
    """A run gave up because the endpoint stopped answering altogether (`GiveUp`).

    Without this a run against a dead or black-holed endpoint would wait out one timeout per
    request, for every session: a hang in all but name. `stats`, when set, is the accounting
    of what was sent until then (`playersim.engines.replay` sets it: it has no engine to ask).
    """

    stats: Any = None
