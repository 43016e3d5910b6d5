"""The README, CONTRIBUTING.md and the pages of docs/ stay true: their Python examples run (a
documented test file passes under pytest), their links name files that exist, every page is in
the site's nav, and CI runs the README's Quickstart commands verbatim."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
# Every page of the site, by its path under docs/ ("testing.md", "reference/mca.md").
PAGES = {
    path.relative_to(ROOT / "docs").as_posix(): path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "docs").rglob("*.md"))
}
# A front page, not a manual: the rest belongs in docs/.
README_MAX_LINES = 250


def blocks(language: str) -> list[str]:
    """Every ```language block of the README, CONTRIBUTING.md and the pages of docs/."""
    texts = [README, CONTRIBUTING, *PAGES.values()]
    return [
        code for text in texts for code in re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)
    ]


def locustfile() -> str:
    """The documented locustfile: Locust runs it (tests/test_locust.py), in processes of its own."""
    [code] = [code for code in blocks("python") if code.startswith("# locustfile.py")]
    return code


def defined_tests(code: str) -> list[str]:
    """The names of the test functions a block defines (none: a script)."""
    return re.findall(r"^def (test_\w+)", code, re.MULTILINE)


SCRIPTS = [code for code in blocks("python") if code != locustfile() and not defined_tests(code)]
TEST_FILES = [code for code in blocks("python") if code != locustfile() and defined_tests(code)]


@pytest.mark.parametrize("code", SCRIPTS, ids=lambda code: code.splitlines()[0][:40])
def test_every_python_example_in_the_docs_runs(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ```python block runs as written and its assertions hold (in a directory of its
    own, as a reader's would be: the files it writes go there)."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs", "exec"), {})


@pytest.mark.parametrize("code", TEST_FILES, ids=lambda code: code.splitlines()[0][:40])
def test_every_documented_test_file_passes(code: str, pytester: pytest.Pytester) -> None:
    """A block that defines tests is what a reader pastes into test_x.py: pytest, in a fresh
    project with only playersim installed (its plugin brings the fixtures), runs and passes
    every one of them."""
    pytester.makepyfile(test_documented=code)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(defined_tests(code)))


def test_the_first_python_example_of_the_readme_is_a_test() -> None:
    """Pasted into test_x.py, the README's first library snippet is a test pytest runs."""
    first = re.findall(r"```python\n(.*?)```", README, re.DOTALL)[0]
    assert defined_tests(first), first


def test_ci_runs_the_quickstart_commands_exactly() -> None:
    """The Quickstart's two commands appear, character for character, in .ci/run."""
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [block.strip() for block in re.findall(r"```sh\n(.*?)```", quickstart, re.DOTALL)]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in commands:
        assert command in ci


def test_the_documented_scripted_session_reproduces_section_6() -> None:
    """The documented TOML script is the section 6 session: same events at the same times."""
    import tomllib

    from playersim import Collector, Engine, MemoryTransport, VirtualClock, script_from_dict
    from tests.test_script import TABLE, timeline

    section = PAGES["testing.md"].split("## Scripted sessions", 1)[1]
    [script_text] = re.findall(r"```toml\n(.*?)```", section, re.DOTALL)[:1]
    script = script_from_dict(tomllib.loads(script_text))
    clock = VirtualClock(start="2026-11-27T12:00:00Z")
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    engine.add(script.player(seed=1))
    engine.run()
    assert timeline(collector.sessions[0]) == TABLE


def relative_links(text: str) -> list[str]:
    """The targets of a Markdown text's relative links, without their #fragment."""
    return re.findall(r"\]\(([^)#:]+)\)", text)


def test_the_readme_links_to_pages_that_exist() -> None:
    """A front page whose links a newcomer can follow: every relative link names a file, in the
    README, in CONTRIBUTING.md (both read from the repository root) and in the pages."""
    for name, text in {"README.md": README, "CONTRIBUTING.md": CONTRIBUTING}.items():
        for target in relative_links(text):
            assert (ROOT / target).exists(), f"{name}: {target}"
    for name, text in PAGES.items():
        for target in relative_links(text):
            assert (ROOT / "docs" / name).parent.joinpath(target).exists(), f"docs/{name}: {target}"


def test_every_page_of_the_docs_is_in_the_nav() -> None:
    """No page of docs/ is orphaned: mkdocs.yml's nav lists each one."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.split(r"\n(?=\S)", config.split("\nnav:", 1)[1], maxsplit=1)[0]
    listed = set(re.findall(r"([\w./-]+\.md)\b", nav))
    assert sorted(set(PAGES) - listed) == []


def test_the_readme_is_a_front_page() -> None:
    """The README stays short enough to read as a front page; the manual is docs/."""
    assert len(README.splitlines()) < README_MAX_LINES


SAMPLE_COMMAND = "playersim run --profile vod-episode --sessions 1 --seed 17 --record one.ndjson"


def sample(path: Path) -> tuple[dict[str, object], str]:
    """What the README shows of a recording: the first body (the sessionStart) and the first
    events after it but pings, one a line: seconds since the sessionStart, the playhead, the
    event, what it carries."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    first = lines[0]["body"]
    start = first["playerTime"]["ts"]
    rows: list[str] = []
    for line in lines[1:]:
        body = line["body"]
        if body["eventType"] == "ping":
            continue
        if len(rows) == 16:
            break
        params = body.get("params", {})
        what = params.get("media.ad.name") or params.get("media.chapter.friendlyName") or ""
        if body["eventType"] in ("play", "bitrateChange") and "qoeData" in body:
            what = f"bitrate {body['qoeData'].get('media.qoe.bitrate')}"
        seconds = (body["playerTime"]["ts"] - start) / 1000
        playhead = body["playerTime"]["playhead"]
        rows.append(f"{seconds:+9.3f} s  playhead {playhead:<7} {body['eventType']:<15} {what}")
    return first, "\n".join(row.rstrip() for row in rows) + "\n"


def test_the_readme_shows_what_its_sample_command_sends(tmp_path: Path) -> None:
    """The data sample on the front page is the real output of the command it names."""
    from playersim import run

    assert SAMPLE_COMMAND in README
    path = tmp_path / "one.ndjson"
    run(profiles=["vod-episode"], sessions=1, seed=17, record=path)
    first, events = sample(path)
    section = README.split("## What the data looks like", 1)[1].split("\n## ", 1)[0]
    [shown_json] = re.findall(r"```json\n(.*?)```", section, re.DOTALL)
    [shown_events] = re.findall(r"```text\n(.*?)```", section, re.DOTALL)
    assert json.loads(shown_json) == first
    assert shown_events == events
