"""Accounting for a run: what was generated, what was sent, what became of it.

Every body a player produced ends up counted exactly once: answered (by status), unanswered
(no HTTP answer), or dropped, with the reason (its session never opened or was closed under it;
the run was stopped before it was sent; the run gave up on the endpoint). The summary adds these
up in front of the user, so nothing disappears silently.

Words a user reads are said once, here: outcomes, reasons for a drop, what a stop did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final

from playersim.audience.profiles import Profile
from playersim.clock import format_instant
from playersim.mca.api import DOWNLOADED, Request, Response, accepted, batch_size
from playersim.mca.wire import WireBody

if TYPE_CHECKING:
    from playersim.clock import Pacer
    from playersim.reporting.rollup import Report
    from playersim.sim.player import Player

__all__ = ["BehaviourStats", "Ending", "Lateness", "RunStats", "format_summary", "summary_json"]

NO_ANSWER = "no answer"
_SESSION_START = "sessionStart"
# Why bodies a player made were never sent.
NOT_OPEN = "their session was not open"
STOPPED = "not yet sent when the run was stopped"
GAVE_UP = "not yet sent when the run gave up on the endpoint"
# Why a viewing ended, beyond the player's own (completed, left, failed to start, ...).
OUTCOME_STOPPED = "stopped"  # ended by Ctrl-C / SIGTERM (a sessionEnd was sent, if it could be)
OUTCOME_CUT_OFF = "cut off"  # the run gave up on the endpoint, or ended, with it in progress
# Lateness is counted in 0.1 ms buckets up to a minute; later is "a minute or more".
_BUCKETS = 600_000
_MAX_EXAMPLES = 5


@dataclass
class RunStats:
    """Counters a run keeps as it goes, and its account once it is over.

    Four counts of "how many", each its own word: `arrivals` (viewers who came: `--sessions`),
    `viewings` (titles watched: the arrivals and the next episodes they went on to,
    `follow_ups`), `sessions_started` (MCA sessions, one sessionStart each: a viewing's
    first, and those `resumed` with `media.resume`, after a long pause, a day, or a session
    the back end lost) and `people` (the audience members behind the viewings).
    """

    sessions: int = 0  # viewings started (arrivals and follow-ups); `viewings`
    follow_ups: int = 0  # viewings a viewer went on to (the next episode)
    turned_away: int = 0  # arrivals that found every place taken (a concurrency limit)
    # Arrivals given to someone already watching, or past their hours: the audience
    # (`[audience] visitors`) is too small for the run's rate or concurrency.
    crowded: int = 0
    retried: int = 0  # requests an HTTP transport sent again (connection errors, 429, 5xx)
    # ... of them, after a try whose answer was lost: each may have arrived twice.
    sent_again_after_lost_answer: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # completed, left, rejected, ...
    generated: int = 0  # bodies produced by players
    # Bodies that went inside a downloaded session's request, beyond the one it is counted by.
    batched: int = 0
    sent: Counter[str] = field(default_factory=Counter)  # by event type
    # "201", "204", "400", "no answer"; a Media Edge run's sessionStarts get "200".
    statuses: Counter[str] = field(default_factory=Counter)
    # Of the requests with no answer: those that may have been delivered all the same (a
    # timeout after sending, a connection closed under it), as opposed to never sent.
    answer_lost: int = 0
    dropped_by: Counter[str] = field(default_factory=Counter)  # bodies never sent, by reason
    ending: Ending | None = None  # what stopping the run did (None: it was not stopped)
    problems: list[str] = field(default_factory=list)  # the first few rejections, for people
    first_ts: int | None = None
    last_ts: int | None = None
    behaviour: dict[str, BehaviourStats] = field(default_factory=dict)  # by profile name
    profiles: dict[str, Profile] = field(default_factory=dict)
    people: set[int] = field(default_factory=set)  # the audience's people who watched
    returning: int = 0  # viewings by someone who had already watched in this run
    starts_by_hour: Counter[int] = field(default_factory=Counter)  # hours since the epoch
    # Once the run is over: problems in its traffic by rule (None: no conformance report, as
    # over HTTP), and how late its requests went out (None: not paced).
    conformance: Counter[str] | None = None
    lateness: Lateness | None = None
    # What Adobe will report for the traffic, when the run was asked for it (`report`).
    answer_key: Report | None = None

    def arrived(self, player: Player) -> None:
        """Count a viewing as it starts: who, and when."""
        self.sessions += 1
        self.crowded += player.crowded
        person = player.visitor.person
        if person in self.people:
            self.returning += 1
        else:
            self.people.add(person)
        if player.start_at is not None:
            self.starts_by_hour[player.start_at // 3_600_000] += 1

    @property
    def viewings(self) -> int:
        """Titles watched: arrivals, and the next episodes they went on to."""
        return self.sessions

    @property
    def arrivals(self) -> int:
        """Viewers who came (and found a place): viewings that were not a next episode."""
        return self.sessions - self.follow_ups

    @property
    def sessions_started(self) -> int:
        """Sessions opened: sessionStart requests sent, and downloaded sessions (each sent
        whole, in one request, after it was watched offline)."""
        return self.sent[_SESSION_START] + self.sent[DOWNLOADED]

    @property
    def downloaded(self) -> int:
        """Sessions watched offline and sent whole once their device was back online."""
        return self.sent[DOWNLOADED]

    @property
    def resumed(self) -> int:
        """Sessions a viewing opened again (`media.resume`): after a long pause, after a day,
        or after the back end lost its session (viewers of profiles; a script's are its own)."""
        return sum(behaviour.resumes for behaviour in self.behaviour.values())

    @property
    def continued(self) -> int:
        """Viewings that continued a title mid-way, where the viewer left it before ("continue
        watching"): their first session is sent with `media.resume` too."""
        return sum(behaviour.continued for behaviour in self.behaviour.values())

    @property
    def dropped(self) -> int:
        """Bodies never sent, whatever the reason (`dropped_by`)."""
        return sum(self.dropped_by.values())

    def drop(self, count: int, reason: str) -> None:
        if count:
            self.dropped_by[reason] += count

    def record(
        self,
        request: Request,
        response: Response | None,
        error: str | None = None,
        *,
        maybe_delivered: bool = False,
    ) -> None:
        event_type = request.event_type
        self.sent[event_type] += 1
        if event_type == DOWNLOADED:
            # One request, a whole session: its other events are accounted for with it.
            self.batched += batch_size(request) - 1
        ts = request.event["playerTime"]["ts"]
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        if response is None:
            self.statuses[NO_ANSWER] += 1
            self.answer_lost += maybe_delivered
            self._example(f"{event_type}: no answer: {error}")
            return
        status = response.status
        if status == 204:  # nearly every answer, and accepted by definition
            self.statuses["204"] += 1
        elif event_type == DOWNLOADED and accepted(request, response):
            self.statuses[str(status)] += 1  # (whether or not the answer names the session)
        elif status == 201 and not response.accepted:
            # Without a session id nothing else of the session can be sent: not accepted.
            self.statuses["201 without a session id"] += 1
            self._example(f"sessionStart: 201 without a usable Location ({response.location!r})")
        elif status == 200 and not response.accepted:
            # A Media Edge sessionStart whose answer has no new-session handle: the datastream
            # has no Media Analytics service (Adobe's words), or the answer was cut.
            self.statuses["200 without a session id"] += 1
            self._example("sessionStart: 200 without a media-analytics:new-session handle")
        else:
            self.statuses[str(status)] += 1
            if not response.accepted:
                self._example(f"{event_type}: {status} {response.message or ''}".rstrip())

    def _example(self, text: str) -> None:
        if len(self.problems) >= _MAX_EXAMPLES:
            return  # (every failed request comes here: no work once the examples are in)
        text = printable(text, 200)
        if text not in self.problems:
            self.problems.append(text)

    @classmethod
    def merged(cls, parts: list[RunStats]) -> RunStats:
        """The account of a run made in parts (`playersim.engines.shares`), from the parts'
        own: what one process running all of it would have counted. Each part counted only its
        own viewings and requests, so counts add up; people are the union of the parts', and
        viewings by someone seen before are the rest. (The first few rejections, kept for
        people, are each part's in turn: their order across parts is not the run's.)"""
        merged = cls()
        for part in parts:
            for name in _SUMMED:
                setattr(merged, name, getattr(merged, name) + getattr(part, name))
            for name in _COUNTED:
                getattr(merged, name).update(getattr(part, name))
            merged.people |= part.people
            for problem in part.problems:
                merged._example(problem)
            for ts in (part.first_ts, part.last_ts):
                if ts is not None:
                    merged.first_ts = ts if merged.first_ts is None else min(merged.first_ts, ts)
                    merged.last_ts = ts if merged.last_ts is None else max(merged.last_ts, ts)
            for name, behaviour in part.behaviour.items():
                mine = merged.behaviour.setdefault(name, BehaviourStats())
                for key in _BEHAVIOUR_FIELDS:
                    setattr(mine, key, getattr(mine, key) + getattr(behaviour, key))
            merged.profiles.update(part.profiles)
            if part.ending is not None:
                ending = merged.ending = merged.ending or Ending()
                ending.ended += part.ending.ended
                ending.not_ended.update(part.ending.not_ended)
            if part.conformance is not None:
                merged.conformance = merged.conformance or Counter()
                merged.conformance.update(part.conformance)
            if part.lateness is not None:
                lateness = merged.lateness = merged.lateness or Lateness()
                lateness.pings.update(part.lateness.pings)
                lateness.all.update(part.lateness.all)
        # Each viewing either brought a new person or was someone's again.
        merged.returning = merged.sessions - len(merged.people)
        return merged

    def as_part(self) -> dict[str, Any]:
        """The counters as JSON, for a part of a run made on another machine
        (`from_part` reads them back; `merged` adds them up)."""
        return {
            **{name: getattr(self, name) for name in (*_SUMMED, "first_ts", "last_ts")},
            **{name: dict(getattr(self, name)) for name in _COUNTED[:-1]},
            "starts_by_hour": {str(hour): n for hour, n in self.starts_by_hour.items()},
            "people": sorted(self.people),
            "problems": self.problems,
            "behaviour": {
                name: {key: getattr(stats, key) for key in _BEHAVIOUR_FIELDS}
                for name, stats in self.behaviour.items()
            },
            "profiles": {
                name: profile.model_dump(mode="json") for name, profile in self.profiles.items()
            },
            "ending": None
            if self.ending is None
            else {"ended": self.ending.ended, "not_ended": dict(self.ending.not_ended)},
            "conformance": None if self.conformance is None else dict(self.conformance),
        }

    @classmethod
    def from_part(cls, data: dict[str, Any]) -> RunStats:
        """`as_part`'s JSON as counters again (KeyError, TypeError or ValueError if it is not)."""
        stats = cls()
        for name in _SUMMED:
            setattr(stats, name, int(data[name]))
        for name in ("first_ts", "last_ts"):
            setattr(stats, name, None if data[name] is None else int(data[name]))
        for name in _COUNTED[:-1]:
            getattr(stats, name).update({str(k): int(v) for k, v in data[name].items()})
        stats.starts_by_hour.update({int(k): int(v) for k, v in data["starts_by_hour"].items()})
        stats.people = {int(person) for person in data["people"]}
        stats.problems = [str(problem) for problem in data["problems"]]
        for name, figures in data["behaviour"].items():
            behaviour = stats.behaviour[name] = BehaviourStats()
            for key in _BEHAVIOUR_FIELDS:
                setattr(behaviour, key, int(figures[key]))
        stats.profiles = {
            name: Profile.model_validate(profile) for name, profile in data["profiles"].items()
        }
        if data["ending"] is not None:
            stats.ending = Ending(
                int(data["ending"]["ended"]), Counter(data["ending"]["not_ended"])
            )
        if data["conformance"] is not None:
            stats.conformance = Counter({str(k): int(v) for k, v in data["conformance"].items()})
        return stats

    @property
    def requests(self) -> int:
        return sum(self.sent.values())

    @property
    def accepted(self) -> int:
        # (200: a Media Edge sessionStart's, naming its session.)
        return self.statuses["200"] + self.statuses["201"] + self.statuses["204"]

    @property
    def failed(self) -> int:
        """Requests not accepted: rejected with a status, or never answered."""
        return self.requests - self.accepted

    def accounting(self) -> dict[str, Any]:
        """Where every generated request went, as numbers that add up:
        `generated == accepted + sum(rejected) + unanswered + dropped + batched` (a downloaded
        session goes as one request: `batched` are its events beyond the first).

        Within them: `unanswered_maybe_delivered` of the unanswered may have reached the
        endpoint all the same, `dropped_by` says why each was dropped, and
        `sent_again_after_lost_answer` of the `retried` may have arrived twice."""
        rejected = {
            code: n
            for code, n in sorted(self.statuses.items())
            if code not in ("200", "201", "204", NO_ANSWER)
        }
        return {
            "generated": self.generated,
            "accepted": self.accepted,
            "rejected": rejected,
            "unanswered": self.statuses[NO_ANSWER],
            "unanswered_maybe_delivered": self.answer_lost,
            "dropped": self.dropped,
            "dropped_by": dict(sorted(self.dropped_by.items())),
            # (Only a run with downloaded sessions has any: other runs' figures stay as they were.)
            **({"batched": self.batched} if self.batched else {}),
            "retried": self.retried,
            "sent_again_after_lost_answer": self.sent_again_after_lost_answer,
        }


@dataclass
class Ending:
    """What stopping a run (Ctrl-C, SIGTERM) did to the sessions open on the endpoint: each
    was sent a sessionEnd, which was accepted (`ended`) or not (`not_ended`, by reason)."""

    ended: int = 0
    not_ended: Counter[str] = field(default_factory=Counter)

    @property
    def open(self) -> int:
        """Sessions open on the endpoint when the run was stopped."""
        return self.ended + sum(self.not_ended.values())

    def said(self) -> str:
        """One sentence for the person who pressed Ctrl-C."""
        if not self.open:
            return "no session was open"
        ended = f"{self.ended:,} of {self.open:,} open sessions were ended with a sessionEnd"
        if not self.not_ended:
            return ended
        why = "; ".join(f"{n:,}: {reason}" for reason, n in self.not_ended.most_common())
        return f"{ended}; {sum(self.not_ended.values()):,} could not be ({why})"

    def as_json(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "ended": self.ended,
            "not_ended": dict(sorted(self.not_ended.items())),
        }


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
    continued: int = 0  # viewings that started mid-title ("continue watching")
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
        self.continued += stats.continued
        self.watched_ms += stats.watched_ms

    def rows(self, profile: Profile) -> list[tuple[str, str]]:
        """Observed figures with the profile's setting in brackets, by row name."""
        viewing, ads = profile.viewing, profile.ads
        hours = self.watched_ms / 3_600_000
        started = self.sessions - self.start_failed
        rows = [
            ("viewings", _n(self.sessions)),
            ("hours watched", f"{hours:,.1f}"),
            ("start failures", _vs(_pct(self.start_failed, self.sessions),
                                   _share(viewing.start_failure_rate))),
        ]  # fmt: skip
        if viewing.completion_rate is not None:
            rows.append(
                ("completion rate",
                 _vs(_pct(self.completed, self.played), _share(viewing.completion_rate)))
            )  # fmt: skip
        rows += [
            ("left from a pause", _vs(_pct(self.left_paused, self.played - self.completed),
                                      _share(viewing.pause_abandon_rate))),
            ("rebuffered", _vs(_pct(self.rebuffered, self.played),
                               _share(viewing.buffering_rate))),
            ("rebuffers per hour", _rate(self.rebuffers, hours)),
            # The pause a viewer leaves from is their exit, counted above, not a random pause.
            ("pauses per hour", _vs(_rate(self.pauses - self.left_paused, hours),
                                    f"{viewing.pauses_per_hour:g}")),
            ("errors per hour", _vs(_rate(self.errors, hours), f"{viewing.errors_per_hour:g}")),
            ("bitrate changes/h", _vs(_rate(self.bitrate_changes, hours),
                                      f"{profile.qoe.bitrate_changes_per_hour:g}")),
            ("state changes/h", _vs(_rate(self.state_changes, hours),
                                    f"{profile.states.changes_per_hour:g}")),
        ]  # fmt: skip
        if not profile.content.live:
            rows.append(
                ("seeks per hour", _vs(_rate(self.seeks, hours), f"{viewing.seeks_per_hour:g}"))
            )
        if ads.preroll_rate:
            rows.append(
                ("had a pre-roll", _vs(_pct(self.prerolls, started), _share(ads.preroll_rate)))
            )
            rows.append(("left in pre-roll", _pct(self.left_in_preroll, self.prerolls)))
        if self.ads:
            rows.append(("ads per viewing", f"{self.ads / max(1, started):.2f}"))
            rows.append(("ads skipped", _pct(self.ads_skipped, self.ads)))
        if self.resumes:
            rows.append(("resumed sessions", _n(self.resumes)))
        return rows


_BEHAVIOUR_ROWS = (
    "viewings", "hours watched", "start failures", "completion rate", "left from a pause",
    "rebuffered", "rebuffers per hour", "pauses per hour", "seeks per hour", "errors per hour",
    "bitrate changes/h", "state changes/h", "had a pre-roll", "left in pre-roll",
    "ads per viewing", "ads skipped", "resumed sessions",
)  # fmt: skip


def printable(text: str, most: int = 40) -> str:
    """`text` safe to print on a terminal: what it names may come from a recording, and so
    from anyone (an event type of escape sequences would rewrite the screen). Characters that
    do not print are written as escapes, and the text is cut at `most`."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= most else text[: most - 3] + "..."


def behaviour_table(stats: RunStats) -> list[str]:
    """One column per profile, one row per figure: observed (the profile's setting)."""
    names = sorted(stats.behaviour)
    columns = [dict(stats.behaviour[name].rows(stats.profiles[name])) for name in names]
    order = [row for row in _BEHAVIOUR_ROWS if any(row in column for column in columns)]
    table = [["behaviour", *names]]
    table += [[row, *(column.get(row, "") for column in columns)] for row in order]
    return _table(table, note="observed (the profile's setting)")


def _table(rows: list[list[str]], *, note: str = "") -> list[str]:
    """Rows of cells as aligned text: the first column left, the others right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  " + "  ".join(cells).rstrip())
        if number == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    if note:
        lines.append(f"  ({note})")
    return lines


def _vs(seen: str, want: str) -> str:
    return f"{seen} ({want})"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _share(share: float) -> str:
    return f"{100 * share:.1f}%"


def _rate(count: int, hours: float) -> str:
    return f"{count / hours:.2f}" if hours else "-"


def _n(value: int) -> str:
    return f"{value:,}"


@dataclass
class Lateness:
    """How late requests went out, in wall milliseconds: a histogram in 0.1 ms steps up to a
    minute (constant memory, however long the run)."""

    pings: Counter[int] = field(default_factory=Counter)
    all: Counter[int] = field(default_factory=Counter)

    def add(self, late_ms: float, *, ping: bool) -> None:
        bucket = min(_BUCKETS, max(0, int(late_ms * 10)))
        self.all[bucket] += 1
        if ping:
            self.pings[bucket] += 1

    def sent(self, pacer: Pacer, body: WireBody) -> None:
        """Count a request going out now: how late it is against its own `ts`."""
        late = pacer.late_ms(body["playerTime"]["ts"])
        self.add(late, ping=body.get("eventType") == "ping")

    def reset(self) -> None:
        """Forget what was measured so far (to measure a window of a run)."""
        self.pings.clear()
        self.all.clear()

    @staticmethod
    def percentile(histogram: Counter[int], share: float) -> float | None:
        """The smallest lateness (ms) that `share` of the requests did not exceed."""
        total = sum(histogram.values())
        if not total:
            return None
        wanted = share * total
        seen = 0
        for bucket in sorted(histogram):
            seen += histogram[bucket]
            if seen >= wanted:
                return bucket / 10
        return max(histogram) / 10

    def summary(self) -> dict[str, float | None]:
        return {
            "ping_p50_ms": self.percentile(self.pings, 0.5),
            "ping_p99_ms": self.percentile(self.pings, 0.99),
            "p50_ms": self.percentile(self.all, 0.5),
            "p99_ms": self.percentile(self.all, 0.99),
            "max_ms": max(self.all) / 10 if self.all else None,
        }


_LATENESS_ROWS = (
    ("ping_p50_ms", "ping lateness p50"),
    ("ping_p99_ms", "ping lateness p99"),
    ("p99_ms", "lateness p99 (all)"),
    ("max_ms", "lateness max"),
)
_SPARKS = " .:-=+*#%@"  # ASCII: a summary must print on any terminal encoding


def _spark_level(count: int, peak: int) -> int:
    """The bar (0 to 8) for `count` out of `peak`: 0 for none, 8 for the peak, each step an
    eighth of the peak (rounded up, so that a single start still shows)."""
    return min(8, (8 * count + peak - 1) // peak)


def _sparkline(counts: Counter[int]) -> str:
    """Sessions started per hour, as a line of bars from the first hour to the last."""
    first, last = min(counts), max(counts)
    peak = max(counts.values())
    return "".join(_SPARKS[_spark_level(counts[hour], peak)] for hour in range(first, last + 1))


def _sparkline_legend(counts: Counter[int]) -> str:
    """What the bars of `_sparkline` stand for: the most sessions started in an hour that each
    shows, from none to the peak. A bar no count can reach (a peak below 8) is left out.

    >>> _sparkline_legend(Counter({0: 2, 1: 1}))
    'a character an hour: " " none, "=" 1, "%" 2 sessions started'
    >>> print(_sparkline_legend(Counter({0: 71, 5: 3})))  # doctest: +NORMALIZE_WHITESPACE
    a character an hour: " " none, "." up to 8, ":" 17, "-" 26, "=" 35, "+" 44, "*" 53,
    "#" 62, "%" 71 sessions started
    """
    peak = max(counts.values())
    bands = ['" " none']
    for level in range(1, 9):
        low, high = (level - 1) * peak // 8 + 1, level * peak // 8
        if low <= high:
            upto = "up to " if len(bands) == 1 and low != high else ""
            bands.append(f'"{_SPARKS[level]}" {upto}{high}')
    return "a character an hour: " + ", ".join(bands) + " sessions started"


def summary_json(
    stats: RunStats,
    *,
    conformance: Counter[str] | None = None,
    lateness: Lateness | None = None,
) -> dict[str, Any]:
    """The end-of-run report for machines (`playersim run --json`)."""
    return {
        "viewings": stats.viewings,
        "arrivals": stats.arrivals,
        "next_episode": stats.follow_ups,
        "sessions_started": stats.sessions_started,
        "downloaded_sessions": stats.downloaded,
        "resumed_sessions": stats.resumed,
        "continued_viewings": stats.continued,
        "turned_away": stats.turned_away,
        "crowded_viewings": stats.crowded,
        "outcomes": dict(sorted(stats.outcomes.items())),
        "people": len(stats.people),
        "returning_viewings": stats.returning,
        "requests": stats.accounting(),
        "by_event_type": dict(sorted(stats.sent.items())),
        "first_ts": stats.first_ts,
        "last_ts": stats.last_ts,
        "starts_by_hour": {
            format_instant(hour * 3_600_000)[:13] + ":00Z": n
            for hour, n in sorted(stats.starts_by_hour.items())
        },
        "conformance_problems": None if conformance is None else dict(sorted(conformance.items())),
        "lateness_ms": None if lateness is None else lateness.summary(),
        "stopped": None if stats.ending is None else stats.ending.as_json(),
    }


def _viewing_rows(stats: RunStats) -> list[list[str]]:
    """The summary's rows on who came and what they watched, each count named for what it
    counts, and each broken down so that the counts add up: viewings are arrivals and next
    episodes; sessions started are each viewing's first and those resumed."""
    rows = [["viewings", _n(stats.viewings)], ["  arrivals", _n(stats.arrivals)]]
    if stats.follow_ups:
        rows.append(["  next episode (binge)", _n(stats.follow_ups)])
    if stats.turned_away:
        rows.append(["arrivals turned away", _n(stats.turned_away)])
    if stats.crowded:
        # Each a device in two sessions at once, or a person past their hours: say so.
        rows.append(["  given to someone busy (raise [audience] visitors)", _n(stats.crowded)])
    if stats.outcomes:
        rows.append(["how the viewings ended", ""])
        rows += [[f"  {name}", _n(count)] for name, count in sorted(stats.outcomes.items())]
    rows.append(["sessions started (sessionStart)", _n(stats.sessions_started)])
    resumed, continued = stats.resumed, stats.continued
    if resumed or continued:
        rows.append(["  a viewing's first", _n(stats.sessions_started - resumed)])
    if continued:
        rows.append(["    continuing mid-title (media.resume)", _n(continued)])
    if resumed:
        rows.append(["  resumed (media.resume)", _n(resumed)])
    if stats.downloaded:
        rows.append(["  of them downloaded: watched offline, sent whole", _n(stats.downloaded)])
    if stats.people:
        rows.append(["people", _n(len(stats.people))])
        rows.append(["returning viewings", _pct(stats.returning, stats.sessions)])
    return rows


def _session_rows(stats: RunStats) -> list[list[str]]:
    """A replay's count: the sessions of the recording, as `playersim run` names them."""
    return [["sessions started (sessionStart)", _n(stats.sessions_started)]]


def _request_rows(stats: RunStats) -> list[list[str]]:
    """The summary's rows on requests: sent, accepted, by status, not sent, and a stop's."""
    rows = [["requests sent", _n(stats.requests)], ["requests accepted", _n(stats.accepted)]]
    if stats.retried:
        rows.append(["requests sent again", _n(stats.retried)])
        if stats.sent_again_after_lost_answer:
            rows.append(
                ["  after a lost answer (may have arrived twice)",
                 _n(stats.sent_again_after_lost_answer)]
            )  # fmt: skip
    for code, count in sorted(stats.statuses.items()):
        rows.append([f"  {code}", _n(count)])
        if code == NO_ANSWER and stats.answer_lost:
            rows.append(["    answer lost, may have been delivered", _n(stats.answer_lost)])
    if stats.dropped:
        rows.append(["events not sent", _n(stats.dropped)])
        for reason, count in sorted(stats.dropped_by.items()):
            rows.append([f"  {reason}", _n(count)])
    if stats.ending is not None:
        rows.append(["sessions open when stopped", _n(stats.ending.open)])
        rows.append(["  ended with a sessionEnd", _n(stats.ending.ended)])
        for reason, count in sorted(stats.ending.not_ended.items()):
            rows.append([f"  not ended: {reason}", _n(count)])
    return rows


def format_summary(
    stats: RunStats,
    *,
    title: str,
    conformance: Counter[str] | None = None,
    lateness: Lateness | None = None,
    replay: bool = False,
) -> str:
    """The end-of-run report: a title, then tables. A `replay`'s counts are of the sessions
    in the recording (a recording knows sessions, not viewers or viewings)."""
    lines = [title, ""]
    rows: list[list[str]] = [["run", ""]]
    if stats.first_ts is not None and stats.last_ts is not None:
        span = (stats.last_ts - stats.first_ts) // 1000
        rows.append(["simulated from", format_instant(stats.first_ts)])
        rows.append(["simulated to", format_instant(stats.last_ts)])
        rows.append(["simulated span", f"{span // 3600}h{span % 3600 // 60:02d}m{span % 60:02d}s"])
    rows += _session_rows(stats) if replay else _viewing_rows(stats)
    rows += _request_rows(stats)
    if conformance is not None:
        rows.append(["conformance problems", _n(sum(conformance.values()))])
        for rule, count in sorted(conformance.items()):
            rows.append([f"  {rule}", _n(count)])
    if lateness is not None:
        figures = lateness.summary()
        for key, label in _LATENESS_ROWS:
            value = figures[key]
            rows.append([label, "-" if value is None else f"{value:,.1f} ms"])
    lines += _table(rows)
    if len(stats.starts_by_hour) > 1:
        first = format_instant(min(stats.starts_by_hour) * 3_600_000)[:13]
        lines += [
            "",
            f"  starts per hour from {first}:00Z",
            f"  {_sparkline(stats.starts_by_hour)}",
            f"  ({_sparkline_legend(stats.starts_by_hour)})",
        ]
    lines.append("")
    names = {name: printable(name) for name in stats.sent}
    width = max((len(name) for name in names.values()), default=0)
    events = [["requests by event", "sent"]]
    events += [
        [names[name].ljust(width), _n(count)]
        for name, count in sorted(stats.sent.items(), key=lambda item: (-item[1], item[0]))
    ]
    lines += _table(events)
    if stats.failed or stats.dropped:
        lines += ["", f"  errors: {_n(stats.failed)} requests not accepted"]
        lines.extend(f"    {example}" for example in stats.problems)
        if stats.answer_lost:
            lines.append(
                f"    ({_n(stats.answer_lost)} with no answer may have been delivered all the "
                "same: HTTP is at-least-once)"
            )
    else:
        lines += ["", "  errors: none"]
    if stats.behaviour:
        lines += ["", *behaviour_table(stats)]
    if conformance is not None and not conformance:
        lines += ["", "  conformance: no problems"]
    return "\n".join(lines)


# RunStats' counters that a run in parts adds up as they are.
_SUMMED: Final = (
    "sessions",
    "follow_ups",
    "turned_away",
    "crowded",
    "retried",
    "sent_again_after_lost_answer",
    "generated",
    "batched",
    "answer_lost",
)
# (The last is keyed by hour, a number: JSON keeps it as text, and `as_part` says it apart.)
_COUNTED: Final = ("outcomes", "sent", "statuses", "dropped_by", "starts_by_hour")
_BEHAVIOUR_FIELDS: Final = tuple(f.name for f in fields(BehaviourStats))
