"""The README and the pages of docs/ stay true: their Python examples run, and CI runs the
README's Quickstart commands verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = {path.name: path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("docs/*.md"))}


def blocks(language: str) -> list[str]:
    """Every ```language block of the README and of the pages of docs/."""
    texts = [README, *PAGES.values()]
    return [
        code for text in texts for code in re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)
    ]


def locustfile() -> str:
    """The documented locustfile: Locust runs it (tests/test_locust.py), in processes of its own."""
    [code] = [code for code in blocks("python") if code.startswith("# locustfile.py")]
    return code


@pytest.mark.parametrize(
    "code",
    [code for code in blocks("python") if code != locustfile()],
    ids=lambda code: code.splitlines()[0][:40],
)
def test_every_python_example_in_the_docs_runs(code: str) -> None:
    """Each ```python block of the README and docs/ runs as written and its assertions hold."""
    exec(compile(code, "docs", "exec"), {})


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


def test_the_readme_links_to_pages_that_exist() -> None:
    """A front page whose links a newcomer can follow: every relative link names a file."""
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (ROOT / target).exists(), target
    for name, text in PAGES.items():
        for target in re.findall(r"\]\(([^)#:]+)\)", text):
            assert (ROOT / "docs" / target).exists(), f"docs/{name}: {target}"
