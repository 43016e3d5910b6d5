"""playersim: simulated media players that speak Adobe's Streaming Media Collection API.

Players are sans-IO state machines on an injected clock; transports are the only I/O; one wire
model is shared by the players that emit requests and the collectors that judge them. Everything
a user needs is exported here (`from playersim import Engine, VirtualClock, run, ...`).

The package is laid out by layer, each importing only from those below it (import-linter checks
this in CI): `cli`, `contrib` and `testing` at the top; `server` and `runner`; `engines` (the
virtual and real-time engines, replay, delivery, statistics) and `settings`; `transports` and
`reporting` (the answer key: what Adobe will report for traffic); `sim` (the player and its
mechanics, behaviours, scripts, viewings); `audience` (profiles, arrivals, catalogue,
metadata); `edge` (the Media Edge API dialect); `mca` (the wire dialect: body model, spec,
state table, conformance, collector); and `clock` and `errors` at the bottom. A module of a
layer is imported by its full name (`playersim.mca.states`) where a page or a test needs what
the package does not export.
"""

from __future__ import annotations

from playersim.audience.arrivals import Ramp, Shape, parse_duration, parse_rate
from playersim.audience.catalog import AdCreative, Chapter, Title
from playersim.audience.metadata import MetadataPool, Visitor
from playersim.audience.profiles import (
    Profile,
    bundled_profiles,
    load_profile,
    parse_weighted,
    profile_from_dict,
)
from playersim.audience.visitors import Audience
from playersim.clock import (
    Clock,
    ManualClock,
    Pacer,
    SleepingClock,
    SystemClock,
    VirtualClock,
    format_instant,
    parse_instant,
)
from playersim.compression import CompressionError
from playersim.engines.delivery import GiveUp, Outbox
from playersim.engines.engine import Engine, FollowUp
from playersim.engines.realtime import RealtimeEngine
from playersim.engines.replay import RecordingError, ReplayLine, read_replay, replay
from playersim.engines.shares import Share
from playersim.engines.summary import BehaviourStats, Ending, Lateness, RunStats
from playersim.errors import (
    EndpointUnreachableError,
    PlayerProtocolError,
    PlayersimError,
    ProfileError,
    ScriptError,
    TransportError,
    WireError,
)
from playersim.mca.api import Request, Response
from playersim.mca.collector import CollectedEvent, CollectedSession, Collector, Counts
from playersim.mca.conformance import Problem, Rule, check_session
from playersim.mca.states import AdPhase, SessionState, State
from playersim.mca.wire import (
    BodyModel,
    EventType,
    WireBody,
    make_body,
    parse_body,
    to_wire,
    validate_body,
)
from playersim.reporting.readings import ADOBE, Readings
from playersim.reporting.record import (
    AdRecord,
    ChapterRecord,
    SessionMeter,
    SessionRecord,
    StateRecord,
    record_of_events,
)
from playersim.reporting.reporter import Reporter, ReportInputError, record_of_session
from playersim.reporting.rollup import Report, build_report, write_report
from playersim.runner import DryRun, RunOptions, arun, dry_run, merge, run
from playersim.settings import AdobeSettings, SettingsError
from playersim.sim.behaviour import (
    Action,
    AdPlay,
    Behaviour,
    BitrateChange,
    Buffer,
    Complete,
    Decision,
    FailStart,
    Leave,
    Pause,
    Play,
    PlayerError,
    Seek,
    SessionView,
    StartAdBreak,
    StateChange,
    ViewerBehaviour,
)
from playersim.sim.player import Player, SessionStats
from playersim.sim.script import Script, ScriptedBehaviour, load_script, script_from_dict
from playersim.sim.viewings import Binge, Seat, Seats, Workload
from playersim.testing import (
    assert_completed,
    assert_ended,
    assert_event_order,
    assert_metrics,
    assert_no_problems,
    record_of,
)
from playersim.transports.base import (
    AsyncMemoryTransport,
    AsyncTransport,
    MemoryTransport,
    Transport,
)
from playersim.transports.clients import async_http_transport
from playersim.transports.http import (
    AsyncHttpTransport,
    HttpTransport,
    Retries,
    RetryingAsyncTransport,
    RetryingTransport,
)
from playersim.transports.rate import RateLimitedTransport
from playersim.transports.recording import PartError, Recorder, read_recording
from playersim.version import __version__

__all__ = [
    "ADOBE",
    "Action",
    "AdCreative",
    "AdPhase",
    "AdPlay",
    "AdRecord",
    "AdobeSettings",
    "AsyncHttpTransport",
    "AsyncMemoryTransport",
    "AsyncTransport",
    "Audience",
    "Behaviour",
    "BehaviourStats",
    "Binge",
    "BitrateChange",
    "BodyModel",
    "Buffer",
    "Chapter",
    "ChapterRecord",
    "Clock",
    "CollectedEvent",
    "CollectedSession",
    "Collector",
    "Complete",
    "CompressionError",
    "Counts",
    "Decision",
    "DryRun",
    "Ending",
    "EndpointUnreachableError",
    "Engine",
    "EventType",
    "FailStart",
    "FollowUp",
    "GiveUp",
    "HttpTransport",
    "Lateness",
    "Leave",
    "ManualClock",
    "MemoryTransport",
    "MetadataPool",
    "Outbox",
    "Pacer",
    "PartError",
    "Pause",
    "Play",
    "Player",
    "PlayerError",
    "PlayerProtocolError",
    "PlayersimError",
    "Problem",
    "Profile",
    "ProfileError",
    "Ramp",
    "RateLimitedTransport",
    "Readings",
    "RealtimeEngine",
    "Recorder",
    "RecordingError",
    "ReplayLine",
    "Report",
    "ReportInputError",
    "Reporter",
    "Request",
    "Response",
    "Retries",
    "RetryingAsyncTransport",
    "RetryingTransport",
    "Rule",
    "RunOptions",
    "RunStats",
    "Script",
    "ScriptError",
    "ScriptedBehaviour",
    "Seat",
    "Seats",
    "Seek",
    "SessionMeter",
    "SessionRecord",
    "SessionState",
    "SessionStats",
    "SessionView",
    "SettingsError",
    "Shape",
    "Share",
    "SleepingClock",
    "StartAdBreak",
    "State",
    "StateChange",
    "StateRecord",
    "SystemClock",
    "Title",
    "Transport",
    "TransportError",
    "ViewerBehaviour",
    "VirtualClock",
    "Visitor",
    "WireBody",
    "WireError",
    "Workload",
    "__version__",
    "arun",
    "assert_completed",
    "assert_ended",
    "assert_event_order",
    "assert_metrics",
    "assert_no_problems",
    "async_http_transport",
    "build_report",
    "bundled_profiles",
    "check_session",
    "dry_run",
    "format_instant",
    "load_profile",
    "load_script",
    "make_body",
    "merge",
    "parse_body",
    "parse_duration",
    "parse_instant",
    "parse_rate",
    "parse_weighted",
    "profile_from_dict",
    "read_recording",
    "read_replay",
    "record_of",
    "record_of_events",
    "record_of_session",
    "replay",
    "run",
    "script_from_dict",
    "to_wire",
    "validate_body",
    "write_report",
]
