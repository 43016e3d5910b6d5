"""The answer key of many sessions: every request the back end accepted, fed to its session's
`SessionMeter`, and each session's record once it closes.

A `Reporter` reads traffic wherever it is seen, in either of Adobe's dialects:

- a run's requests and answers as they settle (`take`, which `playersim run --report` hooks into
  the engine: the profile of each session is known there);
- a recording's lines (`take_line`, `Reporter.from_recording`): a run's, or what `playersim serve`
  received from anyone's player;
- a collector's kept sessions (`record_of_session`, for a test's own assertions).

Only requests the back end took count (a 201 or 200 naming the session, a 204; a downloaded
session's 200 or 201): a refused event is not in Adobe's reports either. Sessions still open
when the input ends are closed as the back end's timeouts would close them (`finish`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from playersim.compression import CompressionError, RecordingFile
from playersim.edge.wire import EDGE_EVENTS, EdgeWireError, read_downloaded, read_event
from playersim.errors import PlayersimError
from playersim.mca.api import (
    DOWNLOADED,
    DOWNLOADED_PATH,
    OPENED_STATUSES,
    SESSIONS_PATH,
    Request,
    Response,
    accepted,
    edge_event_of,
    sid_from_events_path,
)
from playersim.mca.collector import CollectedSession
from playersim.mca.spec import IDLE_TIMEOUT_MS
from playersim.mca.wire import to_wire
from playersim.reporting.readings import ADOBE, Readings
from playersim.reporting.record import (
    CLOSED_BY_END,
    SessionMeter,
    SessionRecord,
    record_of_events,
)

__all__ = ["ReportInputError", "Reporter", "Settling", "record_of_session"]

# The answers a recorded line may have that mean the back end took it.
_TAKEN: Final = frozenset({200, 201, 204})


class _Hooks(Protocol):
    hooks: list[Callable[[Any], None]]


class Settling(Protocol):
    """An engine whose delivery tells hooks of each request it settles (`Engine`,
    `RealtimeEngine`: `playersim.engines.delivery.Settled`)."""

    @property
    def delivery(self) -> _Hooks: ...


class ReportInputError(PlayersimError, ValueError):
    """A recording the answer key cannot read: names the file, the line and what is wrong."""


class Reporter:
    """Meters every session seen, and keeps each one's record once it closes.

    >>> from playersim import Collector, Engine, MemoryTransport, Player, VirtualClock
    >>> from playersim import load_profile
    >>> clock = VirtualClock(start="2026-11-27T12:00:00Z")
    >>> engine = Engine(clock, MemoryTransport(Collector(clock)))
    >>> reporter = Reporter()
    >>> reporter.follow(engine)
    >>> _ = engine.add(Player(load_profile("ugc-clip"), seed=3))
    >>> engine.run()
    >>> [record.media_starts for record in reporter.finish()]
    [1]
    """

    def __init__(
        self,
        *,
        readings: Readings = ADOBE,
        tenant: str | None = None,
        keep: int | None = None,
        idle_timeout_ms: int = IDLE_TIMEOUT_MS,
    ) -> None:
        self.readings = readings
        # No event for this long closes a session (the collector metered may say otherwise).
        self.idle_timeout_ms = idle_timeout_ms
        self.tenant = tenant  # the XDM namespace of Media Edge customMetadata, if any
        self.records: list[SessionRecord] = []  # closed sessions, in the order they closed
        # At most this many closed sessions are kept, the latest (None: all). A record is
        # about 6.5 KB with its ads: a server that runs for days bounds its memory so.
        self.keep = keep
        self.let_go = 0  # closed sessions no longer kept, beyond `keep`
        self._meters: dict[str, SessionMeter] = {}
        self._unnamed = 0

    # --- input ----------------------------------------------------------------------------------

    def take(
        self,
        request: Request,
        response: Response | None,
        *,
        sid: str | None = None,
        profile: str = "",
    ) -> None:
        """A request and its answer (None: it got none). Counted only if the back end took it."""
        if response is None or not accepted(request, response):
            return
        sid = sid or request.sid or response.sid
        if request.event_type == DOWNLOADED:
            body: object = request.body
            bodies = body if isinstance(body, list) else read_downloaded(body, tenant=self.tenant)
            self._whole(sid, bodies, profile=profile)
            return
        if sid is None:
            return
        body = request.event
        if (event := edge_event_of(request.path)) is not None:
            # What Adobe's Edge Network reads is the XDM event, with its whole-second playheads
            # and lengths, not the MCA body it was made from: meter what went on the wire.
            body, _ = read_event(event, request.body, tenant=self.tenant)
        self.feed(sid, body, profile=profile)

    def feed(self, sid: str, body: Mapping[str, Any], *, profile: str = "") -> None:
        """One accepted MCA body of session `sid` (a sessionStart opens the session)."""
        meter = self._meters.get(sid)
        if meter is None:
            if body.get("eventType") != "sessionStart":
                return  # a session opened before the reporter was listening
            meter = self._meters[sid] = SessionMeter(
                sid, readings=self.readings, profile=profile, idle_timeout_ms=self.idle_timeout_ms
            )
        meter.feed(body)
        if meter.closed:
            del self._meters[sid]
            self._keep(meter.close())

    def timed_out(self, sid: str) -> bool:
        """The back end closed session `sid` by a timeout (the collector found it so): close
        its meter as the timeouts close it; whether it was open here."""
        meter = self._meters.pop(sid, None)
        if meter is None:
            return False
        self._keep(meter.close())
        return True

    def _keep(self, record: SessionRecord) -> None:
        records = self.records
        records.append(record)
        if self.keep is not None and len(records) > self.keep + self.keep // 8 + 1:
            # Trimmed an eighth at a time: amortized, not a shift of the list per session.
            extra = len(records) - self.keep
            del records[:extra]
            self.let_go += extra

    def _whole(self, sid: str | None, bodies: Iterable[Mapping[str, Any]], *, profile: str) -> None:
        """A downloaded session: all of it at once (sorted by timestamp, as the back end does)."""
        if sid is None:
            self._unnamed += 1
            sid = f"downloaded-{self._unnamed}"
        self._keep(
            record_of_events(
                sid, list(bodies), readings=self.readings, downloaded=True, profile=profile
            )
        )

    def take_line(self, line: Mapping[str, Any]) -> None:
        """One line of a recording (`playersim.transports.recording`); ValueError if its body
        is not what its path takes."""
        status, path, body = line.get("status"), line.get("path"), line.get("body")
        if status not in _TAKEN or not isinstance(path, str) or body is None:
            return
        sid = line.get("session") if isinstance(line.get("session"), str) else None
        if (event := edge_event_of(path)) is not None:
            if event == "downloaded":
                self._whole(sid, read_downloaded(body, tenant=self.tenant), profile="")
            elif event in EDGE_EVENTS:
                mca, named = read_event(event, body, tenant=self.tenant)
                if (sid := sid or named) is not None:
                    self.feed(sid, mca)
            return
        bare = path.partition("?")[0].rstrip("/")
        if bare == DOWNLOADED_PATH:
            if status in OPENED_STATUSES and isinstance(body, list):
                self._whole(sid, [b for b in body if isinstance(b, dict)], profile="")
            return
        if not isinstance(body, dict):
            raise ValueError("body: not a JSON object")
        if bare == SESSIONS_PATH:
            if sid is not None:
                self.feed(sid, body)
        elif (named := sid_from_events_path(bare)) is not None:
            self.feed(named, body)

    def follow(self, engine: Settling) -> None:
        """Meter every request an engine settles (`Engine`, `RealtimeEngine`), each session
        with its player's profile."""

        def settled(done: Any) -> None:
            profile = getattr(getattr(done.listener, "profile", None), "name", "")
            self.take(done.request, done.response, sid=done.sid, profile=profile or "")

        engine.delivery.hooks.append(settled)

    @classmethod
    def from_recording(
        cls, path: str | Path, *, readings: Readings = ADOBE, tenant: str | None = None
    ) -> Reporter:
        """Every session of a recording, plain or compressed (gzip, Zstandard: told by its first
        bytes); ReportInputError naming the line that cannot be read, or the file, cut short or
        damaged, and where."""
        reporter = cls(readings=readings, tenant=tenant)
        for number, line in _lines(path):
            try:
                reporter.take_line(line)
            except (ValueError, EdgeWireError, TypeError, KeyError, AttributeError) as exc:
                raise ReportInputError(f"{path}:{number}: {exc}") from None
        return reporter

    # --- output ---------------------------------------------------------------------------------

    @property
    def open_sessions(self) -> int:
        return len(self._meters)

    def finish(self) -> list[SessionRecord]:
        """Every session's record, the open ones closed as the back end's timeouts would close
        them (10 minutes after their last event), in the order they started."""
        for sid, meter in list(self._meters.items()):
            del self._meters[sid]
            self.records.append(meter.close())
        return sorted(self.records, key=_started)

    def snapshot(self) -> list[SessionRecord]:
        """The closed sessions' records and the open ones' as they stand (`close_reason`
        "open"), in the order they started: what a live page shows."""
        return sorted(self.records + [m.snapshot() for m in self._meters.values()], key=_started)


def _started(record: SessionRecord) -> tuple[int, str]:
    return record.start_ms, record.sid


def _lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        stream = RecordingFile(path)
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except CompressionError as exc:
        raise ReportInputError(str(exc)) from None
    with stream:
        try:
            yield from _parsed(stream, path)
        except CompressionError as exc:
            # A part of a day is not its answer key: the figures would be silently short.
            raise ReportInputError(str(exc)) from None


def _parsed(stream: RecordingFile, path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
        except UnicodeDecodeError as exc:
            raise ReportInputError(f"{path}:{number}: not UTF-8 text: {exc.reason}") from None
        except json.JSONDecodeError as exc:
            raise ReportInputError(f"{path}:{number}: not JSON: {exc.msg}") from None
        except ValueError as exc:  # NaN, Infinity, a number beyond a double
            raise ReportInputError(f"{path}:{number}: not JSON: {exc}") from None
        except RecursionError:
            raise ReportInputError(f"{path}:{number}: nested too deeply") from None
        if not isinstance(line, dict):
            raise ReportInputError(f"{path}:{number}: not a JSON object")
        yield number, line


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON has (RFC 8259)")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is beyond what a number can be")
    return number


def record_of_session(
    session: CollectedSession, *, readings: Readings = ADOBE, profile: str = ""
) -> SessionRecord:
    """The record of a session a collector kept (`Collector(clock)` keeps every event): closed
    as the collector closed it, or, still open, as the timeouts would."""
    bodies = [to_wire(event.body) for event in session.events]
    close = CLOSED_BY_END if session.close_reason == "sessionEnd" else None
    return record_of_events(
        session.sid,
        bodies,
        close=close,
        readings=readings,
        downloaded=session.downloaded,
        profile=profile,
    )
