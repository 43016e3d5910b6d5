"""The catalogue a run's audience watches: titles with consistent metadata, chapters and ads.

Built once per run and profile with Faker (seeded), then only read: the same `media.id` always
has the same name, length, show, genre, rating and chapters, and the same ad id always has the
same length, advertiser and creative. Dates are drawn between fixed bounds, never relative to
"today", so a seed gives the same catalogue on any day.

This module assembles titles; their names come from `playersim.audience.names`, whose genre
templates and curated lists make a catalogue read like a real service's.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from faker import Faker

from playersim.audience import names
from playersim.audience.profiles import Profile

__all__ = ["AdCreative", "Chapter", "Slot", "Title", "build_ads", "build_titles"]


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter of on-demand content: `media.chapter.*` of chapterStart."""

    index: int  # from 1
    offset_ms: int
    length_ms: int
    name: str
    # Where the player sends its chapterStart, if later than its offset: a player that reports
    # the chapter a moment late (Adobe's Timeline 3 starts chapter 1, offset 0, at playhead 1).
    # A script's; None for every catalogue title.
    late_start_ms: int | None = None
    custom: dict[str, str] = field(default_factory=dict)  # customMetadata of its chapterStart

    @property
    def end_ms(self) -> int:
        return self.offset_ms + self.length_ms

    @property
    def start_ms(self) -> int:
        """The playhead at which its chapterStart is sent."""
        return self.offset_ms if self.late_start_ms is None else self.late_start_ms


@dataclass(frozen=True, slots=True)
class Slot:
    """One programme of a live or linear channel's day, in the audience's local time."""

    start_minute: int  # minute of the local day, 0..1439
    minutes: int
    name: str

    @property
    def end_minute(self) -> int:
        return self.start_minute + self.minutes


@dataclass(frozen=True, slots=True)
class Title:
    """One piece of content and its standard metadata (MCA-SPEC.md section 3)."""

    media_id: str
    name: str
    length_seconds: float
    metadata: dict[str, str] = field(default_factory=dict)  # media.show, media.genre, ...
    chapters: tuple[Chapter, ...] = ()  # on-demand: contiguous, covering the content
    cue_points_ms: tuple[int, ...] = ()  # on-demand: content positions of mid-roll pods
    programmes: tuple[str, ...] = ()  # live: programme names that label the schedule's chapters
    # Live news and linear channels: the local day's programmes, contiguous from 00:00 to
    # 24:00 (`programmes` lists their names in this order).
    schedule: tuple[Slot, ...] = ()
    # A script's sessionStart as written: params that replace those the profile and the viewer
    # give (None leaves a key out), and its customMetadata. Empty for every catalogue title.
    start_params: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AdCreative:
    """One ad: the params of its adStart, fixed for the whole run."""

    ad_id: str
    length_ms: int
    params: dict[str, str]  # the optional media.ad.* metadata: name, advertiser, campaign, ...
    custom: dict[str, str] = field(default_factory=dict)  # customMetadata of its adStart


_MOVIE_GENRES: Final = (
    "Drama", "Comedy", "Action", "Thriller", "Documentary", "Horror", "Romance", "Animation",
    "Science Fiction", "Family",
)  # fmt: skip
_SERIES_GENRES: Final = (
    "Drama", "Comedy", "Crime", "Reality", "Documentary", "Science Fiction", "Kids", "Lifestyle",
)  # fmt: skip
# Most news channels are general news; listed thrice so that three in six draws are.
_NEWS_GENRES: Final = ("News", "News", "News", "Business News", "Weather", "Politics")
_SPORTS: Final = ("Football", "Basketball", "Ice Hockey", "Baseball", "Soccer", "Rugby")
_CLIP_GENRES: Final = ("Comedy", "Music", "Gaming", "How-to", "Pets", "Travel", "Food")
_PODCAST_GENRES: Final = ("True Crime", "Business", "Technology", "History", "Comedy", "Health")
_TV_RATINGS: Final = ("TV-G", "TV-PG", "TV-14", "TV-MA")
# Shows for children are rated for children, whatever the draw.
_KIDS_RATINGS: Final = ("TV-Y", "TV-Y7", "TV-G")
_FEEDS: Final = ("East HD", "West HD", "National")
_EARLIEST: Final = date(1995, 1, 1)
_LATEST: Final = date(2025, 6, 30)  # release dates fall before the default run start


def build_titles(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    """The run's titles for this profile, `profile.content.titles` of them."""
    maker = {
        "movie": _movies,
        "episode": _episodes,
        "live": _news_channels,
        "sports": _sports_events,
        "linear": _linear_channels,
        "clip": _clips,
        "podcast": _podcasts,
    }[profile.content.kind]
    titles = maker(fake, profile, rng)
    if profile.content.live:
        return titles
    return [_with_structure(title, profile, rng, fake) for title in titles]


def build_ads(fake: Faker, profile: Profile, rng: random.Random) -> list[AdCreative]:
    """The run's ad creatives: fictional advertisers, each with one to four campaigns.

    Creatives of one campaign share its campaignId, as an ad server reports them; each
    advertiser's creatives are served from one (fictional) ad CDN."""
    taken: set[str] = set()
    campaign_ids: set[str] = set()
    advertisers: list[tuple[str, str, list[tuple[str, str]]]] = []
    for _ in range(max(3, profile.ads.creatives // 4)):
        brand, kind = names.advertiser(fake, taken)
        campaigns = []
        for campaign in names.ad_campaigns(fake, kind, fake.random_int(1, 4)):
            draw = functools.partial(_campaign_id, fake, brand)
            spare = functools.partial(_campaign_ids, brand)
            campaigns.append((campaign, names.unique(fake, draw, campaign_ids, spare=spare)))
        advertisers.append((brand, names.ad_host(fake), campaigns))
    ads = []
    versions: dict[str, int] = {}
    for index in range(profile.ads.creatives):
        brand, host, campaigns = names.pick(fake, advertisers)
        campaign, campaign_id = names.pick(fake, campaigns)
        creative = fake.hexify("^^^^^^^^")
        length_ms = max(1000, round(profile.ads.ad_seconds.sample(rng)) * 1000)
        seconds = length_ms // 1000
        # Ad operations name a cut by its spot length (":30"), and a second cut of the same
        # spot by its version.
        name = f"{brand} — {campaign} :{seconds:02d}"
        versions[name] = versions.get(name, 0) + 1
        if versions[name] > 1:
            name = f"{name} v{versions[name]}"
        ads.append(
            AdCreative(
                ad_id=f"ad-{index:05d}-{creative}",
                length_ms=length_ms,
                params={
                    "media.ad.name": name,
                    "media.ad.advertiser": brand,
                    "media.ad.campaignId": campaign_id,
                    "media.ad.creativeId": f"cr-{creative}",
                    "media.ad.creativeURL": (
                        f"https://{host}/{_slug(brand)}/{_slug(campaign)}/{creative}_{seconds}s.mp4"
                    ),
                    "media.ad.siteId": f"site-{fake.random_int(1, 40):03d}",
                    "media.ad.placementId": f"pl-{fake.random_int(1000, 9999)}",
                },
            )
        )
    return ads


# --- structure of on-demand titles --------------------------------------------------------------


def _with_structure(title: Title, profile: Profile, rng: random.Random, fake: Faker) -> Title:
    length_ms = round(title.length_seconds * 1000)
    chapters: tuple[Chapter, ...] = ()
    if profile.content.chapters is not None:
        count = max(0, round(profile.content.chapters.sample(rng)))
        # Names come from Faker's RNG, counts and lengths from `rng` as before: renaming
        # chapters moved no chapter boundary and no ad break.
        genre = title.metadata.get("media.genre", "")
        labels = names.chapter_names(fake, profile.content.kind, genre, count)
        chapters = _split(length_ms, labels, rng)
    cues = _cue_points(length_ms, profile.ads.midroll_interval_seconds, chapters)
    return Title(title.media_id, title.name, title.length_seconds, title.metadata, chapters, cues)


# Chapters that bracket a title are short, whatever its length: seconds, as (low, high).
# Assumptions (ours, from how broadcast episodes and films are cut): a cold open runs a few
# minutes, a tag or closing credits a minute or so, a film's opening titles a few minutes and
# its end credits several; a podcast's or a creator's intro and outro well under a minute.
_BOOKENDS: Final = {
    "Cold Open": (90, 300), "Teaser": (60, 180), "Tag": (30, 90), "Closing Credits": (30, 75),
    "Opening": (120, 300), "Main Titles": (90, 240), "Opening Credits": (90, 240),
    "End Credits": (240, 540), "Intro": (20, 90), "Outro": (15, 60),
}  # fmt: skip


def _split(length_ms: int, labels: list[str], rng: random.Random) -> tuple[Chapter, ...]:
    """Contiguous chapters, one per label, covering the content: the bookends (a cold open,
    the credits) short, the acts between them of roughly equal length."""
    count = len(labels)
    if count < 1:
        return ()
    weights = [rng.uniform(0.7, 1.3) for _ in range(count)]
    fixed: dict[int, int] = {}
    if count > 2:
        for index, label in enumerate(labels):
            if label in _BOOKENDS:
                low, high = _BOOKENDS[label]
                # Never more than a tenth of the title: a short clip's intro stays short.
                fixed[index] = min(round(rng.uniform(low, high) * 1000), length_ms // 10)
    rest = length_ms - sum(fixed.values())
    total = sum(w for i, w in enumerate(weights) if i not in fixed)
    chapters = []
    offset = 0
    for index, (weight, label) in enumerate(zip(weights, labels, strict=True), start=1):
        if index == count:
            end = length_ms
        elif index - 1 in fixed:
            end = offset + fixed[index - 1]
        else:
            end = offset + round(rest * weight / total)
        chapters.append(Chapter(index, offset, end - offset, label))
        offset = end
    return tuple(chapters)


def _cue_points(
    length_ms: int, interval_s: float, chapters: tuple[Chapter, ...]
) -> tuple[int, ...]:
    """Mid-roll positions: every `interval_s` of content, moved to the nearest chapter boundary
    where there are chapters (ad breaks fall between acts), never at the very start or end."""
    if interval_s <= 0:
        return ()
    interval = round(interval_s * 1000)
    boundaries = [chapter.offset_ms for chapter in chapters[1:]]
    cues: set[int] = set()
    for target in range(interval, length_ms - 1000, interval):
        cue = min(boundaries, key=lambda b: abs(b - target)) if boundaries else target
        if 1000 <= cue < length_ms - 1000:
            cues.add(cue)
    return tuple(sorted(cues))


# --- makers by kind ----------------------------------------------------------------------------


def _slug(text: str) -> str:
    # An apostrophe joins its word ("tidewells-kitchen"), never leaves a stray "s" behind.
    text = text.lower().replace("'", "").replace("\u2019", "")
    return "-".join("".join(c if c.isalnum() else " " for c in text).split())


def _short_slug(text: str, limit: int = 16) -> str:
    """`_slug(text)` kept to whole words within `limit` characters (its first word at least):
    "tidewell-credit" for Tidewell Credit Union, never a cut word or a trailing hyphen."""
    kept: list[str] = []
    for word in _slug(text).split("-"):
        if kept and len("-".join([*kept, word])) > limit:
            break
        kept.append(word)
    return "-".join(kept)


def _campaign_id(fake: Faker, brand: str) -> str:
    """An ad server's id of one of the brand's campaigns: "cmp-tidewell-credit-6758"."""
    return f"cmp-{_short_slug(brand)}-{fake.numerify('####')}"


def _campaign_ids(brand: str) -> list[str]:
    """Every id `_campaign_id` can give the brand."""
    return [f"cmp-{_short_slug(brand)}-{number:04d}" for number in range(10_000)]


def _common(fake: Faker, profile: Profile) -> dict[str, str]:
    data = {"media.assetId": fake.uuid4()}
    if profile.content.publisher:
        data["media.publisher"] = profile.content.publisher
    return data


def _length(profile: Profile, rng: random.Random) -> float:
    # Lengths are kept to the millisecond: the playhead is computed in whole milliseconds.
    return max(1.0, round(profile.content.length.sample(rng), 3))


def _pool(fake: Faker, draw: Callable[[], str], count: int) -> list[str]:
    """`count` different names: a catalogue's few studios or networks, which its titles share
    (a report by originator shows a handful of studios, not one per film)."""
    taken: set[str] = set()
    return [names.unique(fake, draw, taken) for _ in range(count)]


def _movies(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    studios = _pool(fake, lambda: names.studio(fake), max(4, profile.content.titles // 6))
    animators = _pool(fake, lambda: names.studio(fake, "Animation"), 2)
    taken: set[str] = set()
    titles = []
    for index in range(profile.content.titles):
        genre = names.pick(fake, _MOVIE_GENRES)
        name = names.unique(fake, functools.partial(names.movie_title, fake, genre), taken)
        released = fake.date_between(_EARLIEST, _LATEST)
        digital = released + timedelta(days=fake.random_int(60, 400))
        metadata = _common(fake, profile) | {
            "media.genre": genre,
            "media.rating": names.film_rating(fake, genre),
            "media.originator": names.pick(fake, animators if genre == "Animation" else studios),
            "media.firstAirDate": released.isoformat(),
            "media.firstDigitalDate": digital.isoformat(),
            "media.showType": "3",
        }
        titles.append(
            Title(f"movie-{index:05d}-{_slug(name)}", name, _length(profile, rng), metadata)
        )
    return titles


def _episodes(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    networks = names.networks(fake, max(3, profile.content.titles // 25))
    shows: set[str] = set()
    titles: list[Title] = []
    while len(titles) < profile.content.titles:
        genre = names.pick(fake, _SERIES_GENRES)
        subjects: dict[str, str] = {}  # a documentary's subject, say, by the name drawn for it

        def draw(genre: str = genre, subjects: dict[str, str] = subjects) -> str:
            name, about = names.series(fake, genre)
            subjects[name] = about
            return name

        show = names.unique(fake, draw, shows)
        subject = subjects.get(show, "")
        network = names.pick(fake, networks)
        rating = names.pick(fake, _KIDS_RATINGS if genre == "Kids" else _TV_RATINGS)
        premiere = fake.date_between(_EARLIEST, _LATEST - timedelta(days=3 * 365))
        show_id = f"series-{len(titles):05d}-{_slug(show)}"
        characters = names.cast(fake, genre)
        used: set[str] = set()  # the show's episode titles so far: none is used twice
        # Documentary series run a season or two of a few films, not years of a dozen.
        seasons, longest = (2, 10) if genre == "Documentary" else (4, 12)
        for season in range(1, fake.random_int(1, seasons) + 1):
            season_start = premiere + timedelta(days=365 * (season - 1))
            count = fake.random_int(6, longest)
            if genre == "Reality" and season > 1:
                characters = names.cast(fake, genre)  # each season has its own contestants
            episode_names = names.season_titles(
                fake, genre, characters, season=season, count=count, taken=used, subject=subject
            )
            for episode, name in enumerate(episode_names, start=1):
                if len(titles) == profile.content.titles:
                    break
                aired = season_start + timedelta(weeks=episode - 1)
                metadata = _common(fake, profile) | {
                    "media.show": show,
                    "media.season": str(season),
                    "media.episode": str(episode),
                    "media.genre": genre,
                    "media.rating": rating,
                    "media.network": network,
                    "media.originator": network,
                    "media.firstAirDate": aired.isoformat(),
                    "media.showType": "0",
                }
                media_id = f"{show_id}-s{season:02d}e{episode:02d}"
                titles.append(Title(media_id, name, _length(profile, rng), metadata))
    return titles


def _channel_title(
    media_id: str,
    name: str,
    length: float,
    metadata: dict[str, str],
    day: list[tuple[int, int, str]],
) -> Title:
    schedule = tuple(Slot(start, minutes, programme) for start, minutes, programme in day)
    programmes = tuple(slot.name for slot in schedule)
    return Title(media_id, name, length, metadata, programmes=programmes, schedule=schedule)


def _news_channels(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    taken: set[str] = set()
    stations: set[str] = set()
    titles = []
    for index in range(profile.content.titles):
        genre = names.pick(fake, _NEWS_GENRES)
        channel, brand, town = names.news_channel(fake, genre)
        # Two channels of one service never share a name, nor a station: not "Meridian News"
        # beside "Meridian News 24".
        for _ in range(40):
            if channel not in taken and names.news_station(brand, town) not in stations:
                break
            channel, brand, town = names.news_channel(fake, genre)
        taken.add(channel)
        stations.add(names.news_station(brand, town))
        metadata = _common(fake, profile) | {
            "media.network": channel,
            "media.genre": genre,
            "media.rating": names.pick(fake, _TV_RATINGS[:3]),
            "media.feed": names.pick(fake, _FEEDS),
            "media.originator": channel,
        }
        day = names.news_schedule(fake, genre, brand, town)
        media_id = f"live-{index:05d}-{_slug(channel)}"
        titles.append(_channel_title(media_id, channel, _length(profile, rng), metadata, day))
    return titles


def _sports_events(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    networks = names.sports_networks(fake, 3)
    # One league per sport, its teams drawn when its first event is: matchups stay in a sport.
    leagues: dict[str, tuple[str, list[str]]] = {}
    played: dict[str, set[str]] = {}  # by sport: the matchups of its current round of games
    titles = []
    for index in range(profile.content.titles):
        sport = names.pick(fake, _SPORTS)
        if sport not in leagues:
            clubs = names.team_mascots(fake, fake.random_int(8, 12))
            leagues[sport] = (names.league(fake, sport), [f"{t} {m}" for t, m in clubs])
        league, teams = leagues[sport]

        def matchup(teams: list[str] = teams) -> str:
            home, away = fake.random.sample(teams, 2)
            return f"{home} vs {away}"

        def fixtures(teams: list[str] = teams) -> list[str]:
            return [f"{home} vs {away}" for home in teams for away in teams if home != away]

        games = played.setdefault(sport, set())
        if len(games) == len(teams) * (len(teams) - 1):
            games.clear()  # every team has met every other at home: a new round of rematches
        name = names.unique(fake, matchup, games, attempts=10, spare=fixtures)
        network = names.pick(fake, networks)
        metadata = _common(fake, profile) | {
            "media.show": league,
            "media.genre": sport,
            "media.network": network,
            "media.originator": network,
            "media.rating": "TV-G",
            "media.feed": names.pick(fake, _FEEDS),
        }
        titles.append(
            Title(f"sports-{index:05d}-{_slug(name)}", name, _length(profile, rng), metadata,
                  programmes=names.periods(sport))
        )  # fmt: skip
    return titles


def _linear_channels(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    taken: set[str] = set()
    # One stem per channel while there are stems: not "Summit Kids" beside "Summit Docs".
    stems = names.network_stems(fake, profile.content.titles)
    titles = []
    for index in range(profile.content.titles):
        genre = names.pick(fake, _SERIES_GENRES)
        draw = functools.partial(names.linear_channel, fake, genre, stems[index])
        channel = names.unique(fake, draw, taken)
        metadata = _common(fake, profile) | {
            "media.network": channel,
            "media.originator": channel,
            "media.genre": genre,
            "media.rating": names.pick(fake, _KIDS_RATINGS if genre == "Kids" else _TV_RATINGS),
            "media.feed": names.pick(fake, _FEEDS),
        }
        day = names.linear_schedule(fake, genre)
        media_id = f"linear-{index:05d}-{_slug(channel)}"
        titles.append(_channel_title(media_id, channel, _length(profile, rng), metadata, day))
    return titles


def _clips(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    # Creators upload several clips each, all in their own niche.
    creators = []
    handles: set[str] = set()
    for _ in range(max(5, profile.content.titles // 4)):
        genre = names.pick(fake, _CLIP_GENRES)
        draw = functools.partial(names.uploader, fake, genre)
        creators.append((names.unique(fake, draw, handles), genre))
    taken: set[str] = set()
    titles = []
    for index in range(profile.content.titles):
        uploader, genre = names.pick(fake, creators)
        name = names.unique(fake, functools.partial(names.clip_title, fake, genre), taken)
        metadata = _common(fake, profile) | {
            "media.genre": genre,
            "media.originator": uploader,
            "media.firstDigitalDate": fake.date_between(date(2018, 1, 1), _LATEST).isoformat(),
            "media.showType": "2",
        }
        titles.append(
            Title(
                f"clip-{index:05d}-{fake.hexify('^^^^^^^^')}", name, _length(profile, rng), metadata
            )
        )
    return titles


def _podcasts(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    labels = _pool(fake, lambda: names.podcast_label(fake), 4)
    shows: set[str] = set()
    titles: list[Title] = []
    while len(titles) < profile.content.titles:
        genre = names.pick(fake, _PODCAST_GENRES)
        host, cohost = names.person(fake), names.person(fake)
        first, cofirst = host.split()[0], cohost.split()[0]
        # Comedy shows are double acts; other genres sometimes have a co-host too.
        paired = genre == "Comedy" or names.chance(fake, 0.25)
        draw = functools.partial(names.podcast_show, fake, genre, first, cofirst)
        show = names.unique(fake, draw, shows)
        hosts = f"{host} and {cohost}" if paired and first != cofirst else host
        label = names.pick(fake, labels)
        numbering = names.pick(fake, names.PODCAST_NUMBERING)
        first_date = fake.date_between(date(2015, 1, 1), _LATEST - timedelta(days=400))
        topics: set[str] = set()  # what its episodes are about: never one topic twice
        for episode in range(1, fake.random_int(5, 30) + 1):
            if len(titles) == profile.content.titles:
                break
            draw = functools.partial(names.podcast_topic, fake, genre, show, episode)
            spare = functools.partial(names.podcast_topics, genre)
            topic = names.unique(fake, draw, topics, spare=spare)
            name = numbering.format(n=episode, topic=topic)
            metadata = _common(fake, profile) | {
                "media.show": show,
                "media.episode": str(episode),
                "media.author": hosts,
                "media.artist": hosts,
                "media.label": label,
                "media.genre": genre,
                "media.firstDigitalDate": (first_date + timedelta(weeks=episode)).isoformat(),
            }
            media_id = f"podcast-{len(titles):05d}-{_slug(show)}-e{episode:03d}"
            titles.append(Title(media_id, name, _length(profile, rng), metadata))
    return titles
