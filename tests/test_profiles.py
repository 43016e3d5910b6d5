"""Profiles: the bundled ones load; a broken one names the file, the field and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from playersim import ProfileError, bundled_profiles, load_profile

GOOD = """
name = "mine"
[content]
kind = "movie"
content_type = "vod"
channel = "films"
length_seconds = { distribution = "uniform", low = 600, high = 900 }
[viewing]
startup_seconds = { distribution = "fixed", value = 1 }
completion_rate = 0.5
watch_seconds = { distribution = "exponential", mean = 300 }
"""


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_profiles_include_vod_and_live_and_all_load() -> None:
    """At least one VOD and one live profile ship, and each validates."""
    names = bundled_profiles()
    assert {"vod-movie", "vod-episode", "live-news"} <= set(names)
    profiles = [load_profile(name) for name in names]
    assert any(p.content.live for p in profiles)
    assert any(not p.content.live for p in profiles)
    assert all(p.description for p in profiles)


def test_a_profile_file_loads_by_path(tmp_path: Path) -> None:
    """Any .toml file is a profile; unset sections take documented defaults."""
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.name == "mine"
    assert profile.viewing.completion_rate == 0.5
    assert profile.analytics.report_suite == "northlightstreamprod"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("completion_rate = 0.5", "completion_rate = 1.5"),
            "viewing.completion_rate: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            ("completion_rate = 0.5", "completion_rat = 0.5"),
            "viewing.completion_rat: unknown field",
        ),
        (('channel = "films"', ""), "content.channel: required"),
        (
            ('kind = "movie"', 'kind = "opera"'),
            "content.kind: Input should be 'movie', 'episode', 'live', 'sports', 'linear', "
            "'clip' or 'podcast' (got 'opera')",
        ),
        (
            ('distribution = "exponential"', 'distribution = "poisson"'),
            "viewing.watch_seconds.distribution: 'poisson' is not one of",
        ),
        (
            ("low = 600, high = 900", "low = 900, high = 600"),
            "content.length_seconds: low (900) is greater than high (600)",
        ),
        (
            ("value = 1 }", 'value = "one" }'),
            "viewing.startup_seconds.value: Input should be a valid number",
        ),
        (
            ('length_seconds = { distribution = "uniform", low = 600, high = 900 }', ""),
            "length_seconds is required for on-demand content",
        ),
        (
            ('content_type = "vod"', 'content_type = "live"'),
            "completion_rate applies to on-demand content only",
        ),
    ],
)
def test_a_broken_profile_names_file_field_and_value(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    """Each mistake is reported with the file path, the dotted field and the offending value."""
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_invalid_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    """A syntax error names the file and where TOML parsing failed."""
    path = write(tmp_path, "name = \n")
    with pytest.raises(ProfileError, match=r"mine\.toml: not valid TOML: .*line 1"):
        load_profile(path)


def test_a_missing_file_and_an_unknown_name_are_clear(tmp_path: Path) -> None:
    """A path that does not exist, or a name that is not bundled, says so and lists the choices."""
    with pytest.raises(ProfileError, match="cannot read the file"):
        load_profile(tmp_path / "nope.toml")
    with pytest.raises(
        ProfileError, match=r"no bundled profile of that name \(bundled: .*vod-movie"
    ):
        load_profile("vod-moovie")


def test_a_device_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """audience.devices accepts only the known device families."""
    path = write(tmp_path, GOOD + "[audience]\ndevices = { gameboy = 1 }\n")
    with pytest.raises(ProfileError, match="audience: unknown device 'gameboy'"):
        load_profile(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("value = 1 }", "value = nan }"),
            "viewing.startup_seconds.value: Input should be a finite number",
        ),
        (
            ("low = 600, high = 900", "low = -5, high = 900"),
            "content: length_seconds.low: -5 is outside 1 .. 604800",
        ),
        (
            ("value = 1 }", "value = 1e300 }"),
            "viewing: startup_seconds.value: 1e+300 is outside 0 .. 600",
        ),
        (
            ("completion_rate = 0.5", "completion_rate = true"),
            "viewing.completion_rate: Input should be a valid number",
        ),
    ],
)
def test_absurd_numbers_are_refused_not_clamped(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    """nan, negative or astronomically large durations and non-numeric rates name the field."""
    old, new = change
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert expected in str(caught.value)


def test_any_faker_locale_works_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    """Titles are generated in any Faker locale; a locale Faker lacks is a clear error."""
    from playersim import Player

    for locale in ("en_GB", "de_DE", "ja_JP"):
        path = write(tmp_path, GOOD + f'[audience]\nlocale = "{locale}"\n', name=f"{locale}.toml")
        player = Player(load_profile(path), seed=1, start_at=0)
        assert player.due(0)[0]["params"]["media.name"]
    bad = write(tmp_path, GOOD + '[audience]\nlocale = "xx_YY"\n', name="bad.toml")
    with pytest.raises(ProfileError, match="audience: locale 'xx_YY' is not a Faker locale"):
        load_profile(bad)


def test_a_file_name_that_is_not_a_profile_name_still_loads(tmp_path: Path) -> None:
    """`my profile.toml` without a `name` becomes the profile `my-profile`."""
    path = write(tmp_path, GOOD.replace('name = "mine"\n', ""), name="my profile.toml")
    assert load_profile(path).name == "my-profile"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "[ads]\nmidroll_interval_seconds = 0.0001\n",
            "midroll_interval_seconds: 0.0001 s is too short",
        ),
        (
            "[states]\nnames = []\nchanges_per_hour = 2\n",
            "changes_per_hour > 0 needs at least one name",
        ),
        ("[qoe]\nbitrates = [-5, 0]\n", "qoe.bitrates.0: Input should be greater than 0"),
    ],
)
def test_settings_that_would_crash_or_spin_are_refused(
    tmp_path: Path, extra: str, expected: str
) -> None:
    """Tiny ad intervals, nothing to toggle, negative bitrates: refused at load, named."""
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, GOOD + extra))
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('[arrivals]\ntimezone = "Mars/Olympus"\n', "arrivals.timezone: unknown time zone"),
        ("[arrivals]\nhourly = [1, 2]\n", "arrivals.hourly: List should have at least 24 items"),
        ("[arrivals]\nweekly = [0, 0, 0, 0, 0, 0, 0]\n", "weekly multipliers cannot all be 0"),
        ("[arrivals]\nweekly = [1, 1, 1, 1, 1, 1, -1]\n", "arrivals.weekly.6: Input should be"),
        ("[audience]\nbinge_rate = 2\n", "audience.binge_rate: Input should be less than"),
        ("[audience]\nactivity_sigma = -1\n", "audience.activity_sigma: Input should be greater"),
        (
            '[audience]\nnext_episode_seconds = { distribution = "fixed", value = 1e12 }\n',
            "audience.next_episode_seconds: must be from 0 to 86400 seconds",
        ),
    ],
)
def test_a_broken_audience_or_curve_names_the_field(
    tmp_path: Path, section: str, expected: str
) -> None:
    path = write(tmp_path, GOOD + "\n" + section)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_a_profile_carries_its_audience_curve(tmp_path: Path) -> None:
    curve = (
        '[arrivals]\ntimezone = "Europe/Berlin"\nhourly = [' + ", ".join(["1"] * 23 + ["5"]) + "]\n"
    )
    shape = load_profile(write(tmp_path, GOOD + "\n" + curve)).arrivals.shape()
    assert shape.timezone == "Europe/Berlin"
    assert not shape.flat
    assert load_profile(write(tmp_path, GOOD, "flat.toml")).arrivals.shape().flat


def test_a_profile_extends_another_and_says_only_what_differs(tmp_path: Path) -> None:
    """`extends` takes a bundled profile (or a file, relative to this one) section by section:
    the keys a file sets replace the base's, the rest is the base's."""
    (tmp_path / "films.toml").write_text(
        'extends = "vod-movie"\n[analytics]\nreport_suite = "acmeprod"\n[content]\ntitles = 12\n'
    )
    (tmp_path / "late-films.toml").write_text(
        'extends = "films.toml"\n[viewing]\ncompletion_rate = 0.5\n'
    )
    late = load_profile(tmp_path / "late-films.toml")
    base = load_profile("vod-movie")
    assert late.name == "late-films"  # its own name, not its base's
    assert late.analytics.report_suite == "acmeprod"
    assert late.analytics.tracking_server == base.analytics.tracking_server
    assert late.content.titles == 12
    assert late.content.kind == base.content.kind
    assert late.viewing.completion_rate == 0.5
    assert late.viewing.pauses_per_hour == base.viewing.pauses_per_hour
    assert late.ads == base.ads


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"a.toml": 'extends = "vod-moviez"\n'}, "extends: 'vod-moviez': no bundled profile"),
        ({"a.toml": "extends = 3\n"}, "extends: a bundled profile's name or a file's path"),
        ({"a.toml": 'extends = "gone.toml"\n'}, "extends: 'gone.toml': cannot read the file"),
        (
            {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'},
            "leads back to this profile",
        ),
        (
            {"a.toml": 'extends = "vod-movie"\n[viewing]\ncompletion_rate = 7\n'},
            "viewing.completion_rate",
        ),
    ],
)
def test_a_bad_extends_is_refused_naming_the_file(
    tmp_path: Path, files: dict[str, str], says: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ProfileError) as refused:
        load_profile(tmp_path / "a.toml")
    assert str(refused.value).startswith(str(tmp_path / "a.toml"))
    assert says in str(refused.value)
