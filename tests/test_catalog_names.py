"""A catalogue that reads like a real service's (issue 14, sections 4 and 5): names of titles,
programmes, chapters and ads that a reader takes for real, and channel days that fit the clock.

What "reads like real" means is checked by the rules a reader notices first: no empty or
"Chapter 3" names, no "the the", capitals where a title has them, morning shows in the
morning and the evening news at 18:30, and ad campaigns that hang together."""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from collections.abc import Iterator

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim.audience import names
from playersim.audience.catalog import AdCreative, Slot, Title, build_ads, build_titles
from playersim.audience.metadata import MetadataPool
from playersim.audience.profiles import bundled_profiles, load_profile, profile_from_dict

PROFILES = sorted(bundled_profiles())
MORNING = re.compile(r"\b(Morning|Daybreak|Sunrise|Breakfast)\b")
EVENING = re.compile(r"\bEvening\b")
PERIOD = re.compile(r"\d+(st|nd|rd|th) (Quarter|Half|Period|Inning)")
# Metadata that names something a reader sees in a report (not ids, dates or ratings).
NAMED = ("media.show", "media.network", "media.originator", "media.author", "media.label")
seeds = st.one_of(st.integers(0, 10**9), st.text("abcdefxyz0123456789", min_size=1, max_size=8))


def named(title: Title, kind: str) -> Iterator[tuple[str, bool]]:
    """Every name a title shows, with whether it must start with a capital or a digit.

    A clip's title and its uploader's handle are exempt: people upload "cat vs cucumber
    (again)" and sign up as "miacooks", and a catalogue of user videos keeps that."""
    user_made = kind == "clip"
    yield title.name, not user_made
    for key in NAMED:
        if key in title.metadata:
            yield title.metadata[key], not (user_made and key == "media.originator")
    yield from ((name, True) for name in title.programmes)
    yield from ((slot.name, True) for slot in title.schedule)
    yield from ((chapter.name, True) for chapter in title.chapters)


def ad_names(ad: AdCreative) -> Iterator[str]:
    yield ad.params["media.ad.name"]
    yield ad.params["media.ad.advertiser"]


def check_name(name: str, capital: bool) -> None:
    assert name.strip() == name != "", repr(name)
    assert not re.fullmatch(r"Chapter \d+", name), name
    words = [w.strip(".,:;!?()'\"").lower() for w in name.split()]
    words = [w for w in words if w]
    assert all(a != b for a, b in itertools.pairwise(words)), f"repeated word: {name}"
    assert "playersim" not in name.lower(), name
    if capital:
        assert name[0].isupper() or name[0].isdigit(), name


def check_schedule(schedule: tuple[Slot, ...]) -> None:
    assert schedule, "a channel without a day"
    assert schedule[0].start_minute == 0
    assert schedule[-1].end_minute == 1440
    assert all(slot.minutes > 0 for slot in schedule)
    for before, after in itertools.pairwise(schedule):
        assert before.end_minute == after.start_minute, (before, after)


def on_air(schedule: tuple[Slot, ...], minute: int) -> Slot:
    return next(slot for slot in schedule if slot.start_minute <= minute < slot.end_minute)


def check_ads(ads: tuple[AdCreative, ...]) -> None:
    campaigns: dict[str, set[str]] = defaultdict(set)  # advertiser: its campaign ids
    by_campaign: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ad in ads:
        params = ad.params
        advertiser, campaign_id = params["media.ad.advertiser"], params["media.ad.campaignId"]
        campaigns[advertiser].add(campaign_id)
        # "<Brand> — <Campaign> :30", maybe followed by a cut's version
        brand, rest = params["media.ad.name"].split(" — ")
        cut = re.fullmatch(r"(.+) :(\d+)(?: v\d+)?", rest)
        assert cut is not None, rest
        campaign, length = cut.groups()
        assert brand == advertiser
        assert int(length) == ad.length_ms // 1000
        by_campaign[campaign_id].add((advertiser, campaign))
        url = params["media.ad.creativeURL"]
        assert url.startswith("https://")
        assert "example.com" not in url
        assert url.endswith(f"{params['media.ad.creativeId'][3:]}_{int(length)}s.mp4")
        for name in ad_names(ad):
            check_name(name, capital=True)
    # Creatives of one campaign share its id; an advertiser runs one to four campaigns.
    assert all(len(owners) == 1 for owners in by_campaign.values())
    assert all(1 <= len(ids) <= 4 for ids in campaigns.values())


def check_pool(profile_name: str, seed: int | str) -> None:
    profile = load_profile(profile_name)
    pool = MetadataPool.build(profile, seed)
    kind = profile.content.kind
    for title in pool.titles:
        for name, capital in named(title, kind):
            check_name(name, capital)
        if kind in ("live", "linear"):
            check_schedule(title.schedule)
            assert title.programmes == tuple(slot.name for slot in title.schedule)
        if kind == "live":
            assert MORNING.search(on_air(title.schedule, 7 * 60).name), title.schedule
            assert EVENING.search(on_air(title.schedule, 18 * 60 + 30).name), title.schedule
        if kind == "sports":
            assert title.programmes
            assert all(PERIOD.fullmatch(period) for period in title.programmes)
    check_ads(pool.ads)


@pytest.mark.parametrize("profile_name", PROFILES)
def test_the_default_catalogue_of_every_profile_reads_like_a_service(profile_name: str) -> None:
    check_pool(profile_name, "0")


@settings(max_examples=10, deadline=None)
@given(seed=seeds)
def test_every_catalogue_seed_reads_like_a_service(seed: int | str) -> None:
    for profile_name in PROFILES:
        check_pool(profile_name, seed)


def test_chapters_are_acts_of_an_episode_and_scenes_of_a_film() -> None:
    episode = MetadataPool.build(load_profile("vod-episode")).titles[0]
    acts = [chapter.name for chapter in episode.chapters]
    assert acts[0] in ("Cold Open", "Teaser")
    assert acts[1] == "Act One"
    assert acts[-1] in ("Tag", "Closing Credits")
    film = MetadataPool.build(load_profile("vod-movie")).titles[0]
    scenes = [chapter.name for chapter in film.chapters]
    assert scenes[0] in ("Opening", "Main Titles", "Opening Credits")
    assert scenes[-1] == "End Credits"
    assert len(set(scenes)) == len(scenes)


def test_teams_play_in_their_own_sports_league() -> None:
    pool = MetadataPool.build(load_profile("live-sports"), "teams")
    league_of: dict[str, set[str]] = defaultdict(set)
    sport_of: dict[str, set[str]] = defaultdict(set)
    for title in pool.titles:
        home, away = title.name.split(" vs ")
        assert home != away
        for team in (home, away):
            league_of[team].add(title.metadata["media.show"])
        sport_of[title.metadata["media.show"]].add(title.metadata["media.genre"])
    assert all(len(leagues) == 1 for leagues in league_of.values())
    assert all(len(sports) == 1 for sports in sport_of.values())


def test_a_film_channel_shows_a_film_in_prime_time() -> None:
    # A drama channel's 21:00 is a film, listed with its year as television listings do.
    fake = Faker("en_US")
    fake.seed_instance("prime time")
    day = names.linear_schedule(fake, "Drama")
    prime = next(name for start, _, name in day if start <= 21 * 60 < start + _)
    assert re.fullmatch(r".+ \((19|20)\d\d\)", prime), prime


def test_the_same_seed_and_content_give_the_same_catalogue() -> None:
    profile = load_profile("vod-episode")

    def build() -> tuple[list[Title], list[AdCreative]]:
        fake = Faker(profile.audience.locale)
        fake.seed_instance("same")
        titles = build_titles(fake, profile, random.Random("same"))
        return titles, build_ads(fake, profile, random.Random("same"))

    assert build() == build()


def test_another_locale_keeps_its_people_and_towns_in_english_templates() -> None:
    base = load_profile("live-sports").model_dump(mode="json")
    german = profile_from_dict(
        base | {"name": "sport-de", "audience": base["audience"] | {"locale": "de_DE"}}
    )
    pool = MetadataPool.build(german, "de")
    towns = {team.rsplit(" ", 1)[0] for t in pool.titles for team in t.name.split(" vs ")}
    assert not towns & set(names.PLACES)  # Faker's German towns, not the English list
    for title in pool.titles:
        for name, capital in named(title, "sports"):
            check_name(name, capital)
    assert MetadataPool.build(german, "de").titles == pool.titles


# --- what a data analyst spots first (review of the catalogue's names) -------------------------

SEEDS = ("0", "1", "2", "3", "4")
PARTS = re.compile(r"(.+): Part (One|Two)")
CAMPAIGN_ID = re.compile(r"cmp-[a-z0-9]+(-[a-z0-9]+)*-\d{4}")
AD_NAME = re.compile(r"(.+) — (.+) :\d+(?: v\d+)?")
# What a seasonal or retail sale says; an awareness or coverage campaign says none of it.
SEASONAL_SALE = re.compile(
    r"\b(Sales?|Savings|Deals?|Doorbusters|Clearance|Holiday|Black Friday|New Year|Summer|"
    r"Winter|Spring|Fall|Back to School)\b"
)
PHARMA_OR_INSURANCE = re.compile(
    r".+ (Pharmaceuticals|Health|Therapeutics|Insurance|Mutual|Assurance)"
)
# Chapters that open and close any film, or number its parts.
BOOKENDS = {"Feature", "Opening", "Main Titles", "Opening Credits", "End Credits"}


def catalogues(profile_name: str) -> Iterator[MetadataPool]:
    for seed in SEEDS:
        yield MetadataPool.build(load_profile(profile_name), seed)


def by_show(pool: MetadataPool) -> dict[str, list[str]]:
    """Each show's episode titles, in the order it aired them."""
    shows: dict[str, list[str]] = defaultdict(list)
    for title in pool.titles:
        shows[title.metadata["media.show"]].append(title.name)
    return shows


def subject_of(genre: str, show: str) -> names.Subject:
    for subject in names.SUBJECTS[genre].values():
        for template in subject.series:
            pattern = re.sub(r"\\\{[a-z_]+\d?\\\}", ".+", re.escape(template))
            if re.fullmatch(pattern, show):
                return subject
    raise AssertionError(f"{show!r} is no {genre} series of names.SUBJECTS")


def network_stem(network: str) -> str:
    return network.removeprefix("The ").split()[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_no_two_episodes_of_a_show_share_a_title(seed: str) -> None:
    pool = MetadataPool.build(load_profile("vod-episode"), seed)
    for show, titles in by_show(pool).items():
        twice = sorted({title for title in titles if titles.count(title) > 1})
        assert not twice, (show, twice)
        # None numbered to make it unique ("Judgment Day 2"): the lists are long enough.
        assert not [title for title in titles if re.search(r"\d$", title)], (show, titles)
        # "Part Two" only as the episode right after its "Part One".
        for index, title in enumerate(titles):
            part = PARTS.fullmatch(title)
            if part is None:
                continue
            if part[2] == "One" and index + 1 < len(titles):
                assert titles[index + 1] == f"{part[1]}: Part Two", (show, titles)
            if part[2] == "Two":
                assert titles[index - 1] == f"{part[1]}: Part One", (show, titles)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_two_episodes_of_a_podcast_share_a_topic(seed: str) -> None:
    pool = MetadataPool.build(load_profile("podcast-audio"), seed)
    for show, titles in by_show(pool).items():
        topics = [re.sub(r"^(Ep\. \d+: |\d+\. )", "", title) for title in titles]
        twice = sorted({topic for topic in topics if topics.count(topic) > 1})
        assert not twice, (show, twice)


@pytest.mark.parametrize(
    ("genre", "subject"),
    [(genre, subject) for genre in names.SUBJECTS for subject in names.SUBJECTS[genre]]
    + [(genre, "") for genre in names.EPISODE_PHRASES],
)
def test_the_longest_running_show_never_runs_out_of_titles(genre: str, subject: str) -> None:
    # As many seasons of as many episodes as the catalogue gives a show of the genre, with a
    # new cast each season for a reality show.
    seasons, longest = (2, 10) if genre == "Documentary" else (4, 12)
    for seed in SEEDS:
        fake = Faker("en_US")
        fake.seed_instance(f"{seed}:{genre}:{subject}")
        taken: set[str] = set()
        titles: list[str] = []
        characters = names.cast(fake, genre)
        for season in range(1, seasons + 1):
            if genre == "Reality":
                characters = names.cast(fake, genre)
            titles += names.season_titles(
                fake, genre, characters, season=season, count=longest, taken=taken, subject=subject
            )
        assert len(set(titles)) == len(titles) == seasons * longest
        assert not [title for title in titles if re.search(r"\d$", title)], titles


def test_a_documentary_series_names_episodes_after_its_subject() -> None:
    seen = 0
    for pool in catalogues("vod-episode"):
        for title in pool.titles:
            if title.metadata["media.genre"] != "Documentary":
                continue
            subject = subject_of("Documentary", title.metadata["media.show"])
            part = PARTS.fullmatch(title.name)
            name = part[1] if part else title.name
            assert name in (*subject.episodes, *names.ANY_SUBJECT["Documentary"]), title.name
            seen += 1
    assert seen


def test_a_documentary_film_is_cut_as_an_inquiry_not_as_scenes_of_characters() -> None:
    chapters = {name for part in names.DOCUMENTARY_CHAPTERS.values() for name in part}
    seen = 0
    for pool in catalogues("vod-movie"):
        for film in pool.titles:
            if film.metadata["media.genre"] != "Documentary":
                continue
            for chapter in film.chapters:
                name = re.sub(r"^Part \d+: ", "", chapter.name)
                assert not re.search(r" Arrives$|'s Decision$|^Meeting ", name), film.chapters
                assert name not in names._SCENES[""], film.chapters
                assert name in chapters | BOOKENDS or re.fullmatch(r"Part \d+", name), name
            seen += 1
    assert seen


@pytest.mark.parametrize("profile_name", ["vod-episode", "live-sports", "linear-channel"])
def test_no_two_networks_of_a_catalogue_share_a_stem(profile_name: str) -> None:
    for pool in catalogues(profile_name):
        networks = sorted({title.metadata["media.network"] for title in pool.titles})
        stems = [network_stem(network) for network in networks]
        assert len(set(stems)) == len(stems), networks


def test_no_two_national_news_channels_share_a_brand() -> None:
    # "Meridian News" and "Meridian News 24" (or "Meridian Business News") are one brand.
    for pool in catalogues("live-news"):
        national = [title.name for title in pool.titles
                    if title.name.split()[0] in names._NEWS_STEMS]  # fmt: skip
        stems = [name.split()[0] for name in national]
        assert len(set(stems)) == len(stems), national


@pytest.mark.parametrize("profile_name", PROFILES)
def test_campaign_ids_are_whole_words_and_a_number(profile_name: str) -> None:
    for pool in catalogues(profile_name):
        for ad in pool.ads:
            campaign_id = ad.params["media.ad.campaignId"]
            assert CAMPAIGN_ID.fullmatch(campaign_id), campaign_id


def test_a_drug_maker_or_an_insurer_never_runs_a_seasonal_sale() -> None:
    seen = 0
    for profile_name in PROFILES:
        for pool in catalogues(profile_name):
            for ad in pool.ads:
                match = AD_NAME.fullmatch(ad.params["media.ad.name"])
                assert match is not None, ad.params["media.ad.name"]
                brand, campaign = match.groups()
                if PHARMA_OR_INSURANCE.fullmatch(brand):
                    assert not SEASONAL_SALE.search(campaign), (brand, campaign)
                    seen += 1
    assert seen
    # Whatever a seed draws: not one of their campaigns is a sale.
    for kind in ("pharma", "insurer"):
        for campaign in names._BUSINESSES[kind][1]:
            assert not SEASONAL_SALE.search(campaign), (kind, campaign)


def test_unique_never_gives_a_taken_name() -> None:
    fake = Faker("en_US")
    fake.seed_instance("unique")
    taken = {"Judgment Day", "Rivals"}
    spare = ("Judgment Day", "Rivals", "The Twist")
    assert names.unique(fake, lambda: "Judgment Day", taken, spare=lambda: spare) == "The Twist"
    # Only when all it could draw is taken is a name numbered.
    assert names.unique(fake, lambda: "Rivals", taken, spare=lambda: spare) == "Rivals 2"
    assert taken == {"Judgment Day", "Rivals", "The Twist", "Rivals 2"}
