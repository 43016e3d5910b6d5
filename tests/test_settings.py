"""Your own Adobe settings, once: flags over environment over project file over profiles."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from playersim import AdobeSettings, RunOptions, SettingsError, dry_run, load_profile, run
from playersim.cli.app import main
from playersim.runner import OptionError
from playersim.settings import SETTING_KEYS, env_name

EXAMPLES = Path(__file__).parent.parent / "examples"
ORG = "0123456789ABCDEF0123456A@AdobeOrg"
DATASTREAM = "2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"


@pytest.fixture(autouse=True)
def _no_settings_around(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts in an empty directory, with no PLAYERSIM_ setting in the environment."""
    for key in SETTING_KEYS:
        monkeypatch.delenv(env_name(key), raising=False)
    monkeypatch.chdir(tmp_path)


def first_start(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    """The sessionStart params `playersim run --dry-run 1` shows with these flags."""
    assert main(["run", "--profile", "ugc-clip", "--dry-run", "1", "--json", *flags]) == 0
    shown = json.loads(capsys.readouterr().out)
    params: dict[str, Any] = shown["requests"][0]["body"]["params"]
    return params


def routing(params: dict[str, Any]) -> tuple[Any, ...]:
    return (
        params["analytics.trackingServer"],
        params["analytics.reportSuite"],
        params["visitor.marketingCloudOrgId"],
        params["analytics.enableSSL"],
    )


def test_flags_beat_the_environment_which_beats_the_file_which_beats_the_profile(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    own = load_profile("ugc-clip").analytics
    Path("playersim.toml").write_text(
        'report_suite = "from-file"\ntracking_server = "file.sc.omtrdc.net"\nssl = false\n'
    )
    assert routing(first_start(capsys)) == ("file.sc.omtrdc.net", "from-file", own.org_id, False)
    monkeypatch.setenv("PLAYERSIM_REPORT_SUITE", "from-env")
    monkeypatch.setenv("PLAYERSIM_SSL", "yes")
    assert routing(first_start(capsys)) == ("file.sc.omtrdc.net", "from-env", own.org_id, True)
    params = first_start(capsys, "--report-suite", "from-flag", "--org-id", ORG, "--no-ssl")
    assert routing(params) == ("file.sc.omtrdc.net", "from-flag", ORG, False)


def test_pyproject_is_read_when_there_is_no_playersim_toml(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("pyproject.toml").write_text(
        '[project]\nname = "mine"\n\n[tool.playersim]\nreport_suite = "from-pyproject"\n'
    )
    assert first_start(capsys)["analytics.reportSuite"] == "from-pyproject"
    Path("playersim.toml").write_text('report_suite = "from-playersim-toml"\n')
    assert first_start(capsys)["analytics.reportSuite"] == "from-playersim-toml"
    Path("elsewhere.toml").write_text('report_suite = "named"\n')
    assert first_start(capsys, "--config", "elsewhere.toml")["analytics.reportSuite"] == "named"


def test_an_empty_environment_variable_is_not_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CI secret that is not there (PLAYERSIM_ORG_ID="") leaves the value below it."""
    Path("playersim.toml").write_text(f'org_id = "{ORG}"\n')
    monkeypatch.setenv("PLAYERSIM_ORG_ID", "")
    assert first_start(capsys)["visitor.marketingCloudOrgId"] == ORG


def test_the_endpoint_can_come_from_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    Path("playersim.toml").write_text('to = "https://mca.example.com"\n')
    assert main(["run", "--profile", "ugc-clip", "--dry-run", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("POST https://mca.example.com/api/v1/sessions\n")
    assert (
        main(["run", "--profile", "ugc-clip", "--dry-run", "1", "--to", "http://127.0.0.1:1"]) == 0
    )
    assert capsys.readouterr().out.startswith("POST http://127.0.0.1:1/api/v1/sessions\n")


@pytest.mark.parametrize(
    ("file", "env", "flags", "message"),
    [
        ('org_id = "abc"', {}, [], "playersim.toml: org_id: 'abc' is not an Experience Cloud "
         "org id (24 upper-case hex digits then @AdobeOrg)"),
        ('report_suit = "x"', {}, [], "playersim.toml: report_suit: unknown key (the keys are: "
         "tracking_server, report_suite"),
        ("ssl = 'yes'", {}, [], "playersim.toml: ssl: Input should be a valid boolean, got 'yes'"),
        ("report_suite = ", {}, [], "playersim.toml: not valid TOML"),
        ("", {"PLAYERSIM_TRACKING_SERVER": "https://acme.sc.omtrdc.net"}, [],
         "PLAYERSIM_TRACKING_SERVER: 'https://acme.sc.omtrdc.net' is not a host name: give the "
         "host alone"),
        ("", {"PLAYERSIM_SSL": "maybe"}, [], "PLAYERSIM_SSL: 'maybe' is not true or false"),
        ("", {"PLAYERSIM_TO": "ftp://x"}, [], "PLAYERSIM_TO: 'ftp://x' is not an http://"),
        ("", {}, ["--report-suite", "acme-demo,acme-all"], "--report-suite: 'acme-demo,acme-all'"
         ": give one report suite ID (a list, for multi-suite tagging, is not taken)"),
        ("", {}, ["--report-suite", "acme demo"], "--report-suite: 'acme demo' is not a report "
         "suite ID (letters, digits, '-', '_' and '.' only)"),
        ("", {}, ["--api", "edge", "--datastream", "abc"], "--datastream: 'abc' is not a "
         "datastream ID (a UUID"),
        ("", {}, ["--api", "edge", "--datastream", DATASTREAM, "--edge-host", "edge/x"],
         "--edge-host: 'edge/x' is not a host name"),
        ('api = "edge"', {}, [], "playersim.toml: api: 'edge' needs a datastream"),
        (f'datastream = "{DATASTREAM}"', {}, [], "playersim.toml: datastream: a datastream is "
         "for api 'edge' (Adobe's Edge Network), and does not apply to api 'mca' (the default)"),
        ("", {}, ["--datastream", DATASTREAM, "--api", "mca"],
         "--datastream: a datastream is for api 'edge' (Adobe's Edge Network), "
         "and does not apply to api 'mca' (--api)"),
        ("", {}, ["--tenant", "acme", "--api", "edge", "--datastream", DATASTREAM],
         "--tenant: 'acme' is not an XDM tenant namespace"),
        ("", {}, ["--edge-host", "edge.acme.com"], "--edge-host: an edge host is for api 'edge'"),
        ("", {}, ["--config", "missing.toml"], "missing.toml: cannot read the file"),
    ],
)  # fmt: skip
def test_a_bad_setting_exits_2_naming_its_source_key_and_value(  # noqa: PLR0917 - fixtures
    file: str,
    env: dict[str, str],
    flags: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if file:
        Path("playersim.toml").write_text(file + "\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", *flags]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("playersim run: error: ")
    assert message in err


def test_a_flag_over_a_file_written_for_edge(capsys: pytest.CaptureFixture[str]) -> None:
    """`--api mca` for one run beats a playersim.toml written for Edge: its Edge-only keys do
    not apply, and are left aside rather than refused; an `--edge-host` flag beats a file's
    endpoint."""
    Path("playersim.toml").write_text(
        f'api = "edge"\ndatastream = "{DATASTREAM}"\ntenant = "_acme"\nto = "http://127.0.0.1:9"\n'
    )
    assert main(["run", "--api", "mca", "--sessions", "1", "--dry-run", "1"]) == 0
    assert "POST http://127.0.0.1:9/api/v1/sessions" in capsys.readouterr().out
    assert (
        main(["run", "--edge-host", "edge.acme.example", "--sessions", "1", "--dry-run", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert f"POST https://edge.acme.example/ee/va/v1/sessionStart?configId={DATASTREAM}" in out


def test_a_bad_pyproject_table_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    Path("pyproject.toml").write_text('[tool.playersim]\norg_id = "acme@AdobeOrg"\n')
    assert main(["run"]) == 2
    assert "pyproject.toml [tool.playersim]: org_id: 'acme@AdobeOrg' is not" in (
        capsys.readouterr().err
    )


def test_run_routes_every_profile_and_reads_no_file_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`run(adobe=...)` routes every session of every profile; without it, a run is hermetic:
    the settings file and the environment change nothing (they are the command line's)."""
    Path("playersim.toml").write_text('report_suite = "from-file"\n')
    monkeypatch.setenv("PLAYERSIM_REPORT_SUITE", "from-env")
    fields: dict[str, Any] = {"profiles": ["ugc-clip", "vod-movie", "live-news"], "sessions": 9}
    plain, routed = io.StringIO(), io.StringIO()
    run(record=plain, **fields)
    adobe = AdobeSettings(report_suite="acme-demo", tracking_server="acme.sc.omtrdc.net")
    run(record=routed, adobe=adobe, **fields)
    starts = [
        line["body"]["params"]
        for line in map(json.loads, routed.getvalue().splitlines())
        if line["body"]["eventType"] == "sessionStart"
    ]
    assert len(starts) >= 9
    suites = {(p["analytics.reportSuite"], p["analytics.trackingServer"]) for p in starts}
    assert suites == {("acme-demo", "acme.sc.omtrdc.net")}
    assert "from-" not in plain.getvalue()

    # Only the routing differs: the same viewings, event for event.
    def bodies(text: str) -> list[str]:
        return [json.dumps(json.loads(line)["body"]) for line in text.splitlines()]

    renamed = [
        body.replace("northlightstreamprod", "acme-demo").replace(
            "northlightmedia.sc.omtrdc.net", "acme.sc.omtrdc.net"
        )
        for body in bodies(plain.getvalue())
    ]
    assert renamed == bodies(routed.getvalue())


def test_a_script_is_routed_too() -> None:
    shown = dry_run(
        script=EXAMPLES / "section6.toml", adobe=AdobeSettings(report_suite="acme-demo"), show=1
    )
    assert shown.requests[0].body["params"]["analytics.reportSuite"] == "acme-demo"


def test_settings_that_say_nothing_change_no_byte() -> None:
    plain, empty = io.StringIO(), io.StringIO()
    run(profiles=["vod-episode"], sessions=5, seed=3, record=plain)
    run(profiles=["vod-episode"], sessions=5, seed=3, record=empty, adobe=AdobeSettings())
    assert plain.getvalue() == empty.getvalue()


def test_the_options_expose_the_api_and_the_edge_settings() -> None:
    """For the Edge dialect: `options.api`, `options.adobe.datastream`, `.edge_host`."""
    assert RunOptions().api == "mca"
    edge = RunOptions(adobe=AdobeSettings(api="edge", datastream=DATASTREAM))
    assert edge.api == "edge"
    assert edge.adobe is not None
    assert (edge.adobe.datastream, edge.adobe.edge_host) == (DATASTREAM, "edge.adobedc.net")
    # The settings' endpoint is the run's, unless the run names its own.
    to_file = AdobeSettings(to="https://mca.example.com")
    assert RunOptions(adobe=to_file).to == "https://mca.example.com"
    assert RunOptions(adobe=to_file, to="http://127.0.0.1:8080").to == "http://127.0.0.1:8080"
    with pytest.raises(OptionError, match="adobe must be an AdobeSettings"):
        RunOptions(adobe={"report_suite": "x"})  # type: ignore[arg-type]


def test_load_reads_what_the_command_line_reads(tmp_path: Path) -> None:
    (tmp_path / "playersim.toml").write_text('report_suite = "file"\nto = "https://a.example"\n')
    loaded = AdobeSettings.load(
        flags={"tracking_server": "flag.example.com", "report_suite": None},
        environ={"PLAYERSIM_REPORT_SUITE": "env"},
        cwd=tmp_path,
    )
    assert loaded == AdobeSettings(
        tracking_server="flag.example.com", report_suite="env", to="https://a.example"
    )
    with pytest.raises(SettingsError, match="PLAYERSIM_ORG_ID: 'x' is not an Experience Cloud"):
        AdobeSettings.load(environ={"PLAYERSIM_ORG_ID": "x"}, cwd=tmp_path)
