"""Accounting for a run: what was generated, what was sent, what became of it.

Every body a player produced ends up counted exactly once: answered (by status), unanswered
(no HTTP answer), or dropped (its session never opened or was closed under it). The summary adds
these up in front of the user, so nothing disappears silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from playersim.clock import format_instant
from playersim.transport import Request, Response

if TYPE_CHECKING:
    from playersim.player import Player
    from playersim.profiles import Profile

__all__ = ["BehaviourStats", "RunStats", "format_summary"]

NO_ANSWER = "no answer"
_MAX_EXAMPLES = 5


@dataclass
class RunStats:
    """Counters a run keeps as it goes."""

    sessions: int = 0  # players started
    outcomes: Counter[str] = field(default_factory=Counter)  # completed, left, rejected, ...
    generated: int = 0  # bodies produced by players
    sent: Counter[str] = field(default_factory=Counter)  # by event type
    statuses: Counter[str] = field(default_factory=Counter)  # "201", "204", "400", "no answer"
    dropped: int = 0
    problems: list[str] = field(default_factory=list)  # the first few rejections, for people
    first_ts: int | None = None
    last_ts: int | None = None
    behaviour: dict[str, BehaviourStats] = field(default_factory=dict)  # by profile name
    profiles: dict[str, Profile] = field(default_factory=dict)

    def record(self, request: Request, response: Response | None, error: str | None = None) -> None:
        event_type = request.event_type
        self.sent[event_type] += 1
        ts = request.body["playerTime"]["ts"]
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        if response is None:
            self.statuses[NO_ANSWER] += 1
            self._example(f"{event_type}: no answer: {error}")
            return
        status = response.status
        if status == 204:  # nearly every answer, and accepted by definition
            self.statuses["204"] += 1
        elif status == 201 and not response.accepted:
            # Without a session id nothing else of the session can be sent: not accepted.
            self.statuses["201 without a session id"] += 1
            self._example(f"sessionStart: 201 without a usable Location ({response.location!r})")
        else:
            self.statuses[str(status)] += 1
            if not response.accepted:
                self._example(f"{event_type}: {status} {response.message or ''}".rstrip())

    def _example(self, text: str) -> None:
        if len(self.problems) < _MAX_EXAMPLES and text not in self.problems:
            self.problems.append(text)

    @property
    def requests(self) -> int:
        return sum(self.sent.values())

    @property
    def accepted(self) -> int:
        return self.statuses["201"] + self.statuses["204"]

    @property
    def failed(self) -> int:
        """Requests not accepted: rejected with a status, or never answered."""
        return self.requests - self.accepted


@dataclass
class BehaviourStats:
    """What the viewers of one profile did, added up: to compare with the profile's settings."""

    sessions: int = 0
    played: int = 0
    start_failed: int = 0
    completed: int = 0
    prerolls: int = 0
    left_in_preroll: int = 0
    left_paused: int = 0
    rebuffered: int = 0
    rebuffers: int = 0
    pauses: int = 0
    seeks: int = 0
    errors: int = 0
    bitrate_changes: int = 0
    state_changes: int = 0
    ad_breaks: int = 0
    ads: int = 0
    ads_skipped: int = 0
    resumes: int = 0
    watched_ms: int = 0

    def add(self, player: Player) -> None:
        stats = player.stats
        self.sessions += 1
        self.played += stats.played
        self.start_failed += stats.start_failed
        self.completed += player.outcome == "completed"
        self.prerolls += stats.preroll
        self.left_in_preroll += stats.left_in_preroll
        self.left_paused += stats.left_paused
        self.rebuffered += stats.rebuffers > 0
        self.rebuffers += stats.rebuffers
        self.pauses += stats.pauses
        self.seeks += stats.seeks
        self.errors += stats.errors
        self.bitrate_changes += stats.bitrate_changes
        self.state_changes += stats.state_changes
        self.ad_breaks += stats.ad_breaks
        self.ads += stats.ads
        self.ads_skipped += stats.ads_skipped
        self.resumes += stats.resumes
        self.watched_ms += stats.watched_ms

    def lines(self, profile: Profile) -> list[str]:
        """Observed figures beside the profile's settings ("-" where it sets none)."""
        viewing, ads = profile.viewing, profile.ads
        hours = self.watched_ms / 3_600_000
        started = self.sessions - self.start_failed
        rows = [
            (
                "start failures",
                _pct(self.start_failed, self.sessions),
                _share(viewing.start_failure_rate),
            )
        ]
        if viewing.completion_rate is not None:
            rows.append(
                (
                    "completion rate",
                    _pct(self.completed, self.played),
                    _share(viewing.completion_rate),
                )
            )
        rows += [
            ("left from a pause", _pct(self.left_paused, self.played - self.completed),
             _share(viewing.pause_abandon_rate)),
            ("rebuffered", _pct(self.rebuffered, self.played), _share(viewing.buffering_rate)),
            ("rebuffers per hour", _rate(self.rebuffers, hours), "-"),
            # The pause a viewer leaves from is their exit, counted above, not a random pause.
            ("pauses per hour", _rate(self.pauses - self.left_paused, hours),
             f"{viewing.pauses_per_hour:g}"),
            ("errors per hour", _rate(self.errors, hours), f"{viewing.errors_per_hour:g}"),
            ("bitrate changes/h", _rate(self.bitrate_changes, hours),
             f"{profile.qoe.bitrate_changes_per_hour:g}"),
            ("state changes/h", _rate(self.state_changes, hours),
             f"{profile.states.changes_per_hour:g}"),
        ]  # fmt: skip
        if not profile.content.live:
            rows.append(("seeks per hour", _rate(self.seeks, hours), f"{viewing.seeks_per_hour:g}"))
        if ads.preroll_rate:
            rows.append(("had a pre-roll", _pct(self.prerolls, started), _share(ads.preroll_rate)))
            rows.append(
                ("left in pre-roll", _pct(self.left_in_preroll, self.prerolls), "by length")
            )
        if self.ads:
            rows.append(("ads per viewing", f"{self.ads / max(1, started):.2f}", "-"))
            rows.append(("ads skipped", _pct(self.ads_skipped, self.ads), "-"))
        if self.resumes:
            rows.append(("resumed sessions", _n(self.resumes), "-"))
        lines = [
            f"  behaviour      {profile.name}: {_n(self.sessions)} viewings, "
            f"{hours:,.1f} h watched",
            f"    {'':<20} {'observed':>8}  profile",
        ]
        lines.extend(f"    {name:<20} {seen:>8}  {want}" for name, seen, want in rows)
        return lines


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _share(share: float) -> str:
    return f"{100 * share:.1f}%"


def _rate(count: int, hours: float) -> str:
    return f"{count / hours:.2f}" if hours else "-"


def _n(value: int) -> str:
    return f"{value:,}"


def format_summary(stats: RunStats, *, title: str, conformance: Counter[str] | None = None) -> str:
    """The end-of-run report, as a small plain-text table."""
    lines = [title]
    if stats.first_ts is not None and stats.last_ts is not None:
        span = (stats.last_ts - stats.first_ts) // 1000
        lines.append(
            f"  virtual time   {format_instant(stats.first_ts)} .. {format_instant(stats.last_ts)}"
            f"  ({span // 3600}h{span % 3600 // 60:02d}m{span % 60:02d}s)"
        )
    outcomes = ", ".join(f"{name} {_n(count)}" for name, count in sorted(stats.outcomes.items()))
    lines.append(f"  sessions       {_n(stats.sessions)}" + (f"  ({outcomes})" if outcomes else ""))
    lines.append(f"  requests       {_n(stats.requests)} sent, {_n(stats.accepted)} accepted")
    width = max((len(name) for name in stats.sent), default=0)
    for name, count in sorted(stats.sent.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"    {name:<{width}}  {_n(count):>10}")
    statuses = ", ".join(f"{code}: {_n(count)}" for code, count in sorted(stats.statuses.items()))
    lines.append(f"  statuses       {statuses or 'none'}")
    if stats.dropped:
        lines.append(f"  dropped        {_n(stats.dropped)} events of sessions that were not open")
    if stats.failed or stats.dropped:
        lines.append(f"  errors         {_n(stats.failed)} requests not accepted")
        lines.extend(f"    {example}" for example in stats.problems)
    else:
        lines.append("  errors         none")
    for name, behaviour in sorted(stats.behaviour.items()):
        lines.extend(behaviour.lines(stats.profiles[name]))
    if conformance is not None:
        if conformance:
            rules = ", ".join(f"{rule}: {_n(count)}" for rule, count in sorted(conformance.items()))
            lines.append(f"  conformance    {_n(sum(conformance.values()))} problems ({rules})")
        else:
            lines.append("  conformance    no problems")
    return "\n".join(lines)
