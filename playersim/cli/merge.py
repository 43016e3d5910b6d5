"""`playersim merge`: the parts of a run made in shares (`run --shard K/N`), joined into the
recording one machine would have written, and the run's summary."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from playersim.cli import flags
from playersim.cli.report import fail, status
from playersim.engines.summary import format_summary, summary_json
from playersim.runner import merge
from playersim.transports.recording import PartError

__all__ = ["MergeCommand", "add_merge", "merge_command"]

PROG = "playersim merge"


@dataclass(frozen=True, slots=True)
class MergeCommand:
    """What `playersim merge` was asked: the parts, where the recording goes, how to show it."""

    parts: tuple[str, ...]
    record: str
    json: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> MergeCommand:
        return cls(tuple(args.parts), args.record, args.json)


def add_merge(commands: argparse._SubParsersAction[flags.Parser]) -> None:
    """`playersim merge` and its flags."""
    command = commands.add_parser(
        "merge",
        help="join the parts of a run made in shares (run --shard K/N) into one recording",
        description="Join the parts that `playersim run --shard K/N --record PART` wrote on N "
        "machines (or N processes) into the recording one machine running the whole run would "
        "have written, byte for byte, and print the whole run's summary.",
    )
    command.add_argument("parts", nargs="+", metavar="PART", help="every share's part file")
    command.add_argument(
        "--record", required=True, metavar="FILE", help="write the whole run's recording to FILE"
    )
    command.add_argument(
        "--json", action="store_true", help="print the summary as JSON instead of tables"
    )


def merge_command(command: MergeCommand) -> int:
    """Merge, then print the summary; the exit status says whether everything was accepted."""
    try:
        stats = merge(command.parts, command.record)
    except PartError as exc:
        return fail(PROG, str(exc))
    title = f"{PROG}: {len(command.parts)} parts, {stats.arrivals:,} arrivals"
    if command.json:
        report = summary_json(stats, conformance=stats.conformance)
        print(json.dumps({"title": title, "record": command.record, **report}, indent=2))
    else:
        print(format_summary(stats, title=title, conformance=stats.conformance))
        print(f"  recording: {command.record}")
    problems = sum(stats.conformance.values()) if stats.conformance else 0
    code = status(PROG, stats, None, problems)
    sys.stdout.flush()
    return code
