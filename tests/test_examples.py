"""Every script in examples/ runs, as the README's first paragraph promises each user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Each example runs as a script of its own, in a process of its own.
pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_a_day_of_traffic_for_data_engineers(tmp_path: Path) -> None:
    out = tmp_path / "day.ndjson"
    first = run(str(EXAMPLES / "a_day_of_traffic.py"), "--sessions", "150", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "conformance problems: 0" in first.stdout
    recorded = out.read_bytes()
    assert recorded.count(b"\n") > 1000
    again = run(str(EXAMPLES / "a_day_of_traffic.py"), "--sessions", "150", "--out", str(out))
    assert again.returncode == 0
    assert out.read_bytes() == recorded  # same seed, same bytes


def test_one_player_on_a_fake_clock_for_test_engineers() -> None:
    result = run(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / "test_one_player.py")
    )
    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout


@pytest.mark.parametrize("script", ["seed_a_demo_suite.py"])
def test_seeding_a_demo_suite_for_solution_consultants(script: str) -> None:
    result = run(str(EXAMPLES / script), "--viewers", "30")
    assert result.returncode == 0, result.stderr
    assert "the collector saw" in result.stdout
    assert "no conformance problems" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_day_made_in_shares_on_a_cluster_engine(tmp_path: Path) -> None:
    """The cluster example, on local processes: its merged day is the day one process makes."""
    out = tmp_path / "day.ndjson"
    result = run(
        str(EXAMPLES / "shards.py"), "--shares", "3", "--sessions", "90", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "conformance problems: 0" in result.stdout
    one = tmp_path / "one.ndjson"
    whole = run(
        "-m", "playersim", "run", "--sessions", "90", "--duration", "24h",
        "--start", "2026-03-02T05:00:00Z", "--seed", "7", "--record", str(one),
    )  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    assert out.read_bytes() == one.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["day.ndjson", "one.ndjson"]
