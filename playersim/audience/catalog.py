"""The catalogue a run's audience watches: titles with consistent metadata, chapters and ads.

Built once per run and profile with Faker (seeded), then only read: the same `media.id` always
has the same name, length, show, genre, rating and chapters, and the same ad id always has the
same length, advertiser and creative. Dates are drawn between fixed bounds, never relative to
"today", so a seed gives the same catalogue on any day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from faker import Faker

from playersim.audience.profiles import Profile

__all__ = ["AdCreative", "Chapter", "Title", "build_ads", "build_titles"]


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter of on-demand content: `media.chapter.*` of chapterStart."""

    index: int  # from 1
    offset_ms: int
    length_ms: int
    name: str

    @property
    def end_ms(self) -> int:
        return self.offset_ms + self.length_ms


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


@dataclass(frozen=True, slots=True)
class AdCreative:
    """One ad: the params of its adStart, fixed for the whole run."""

    ad_id: str
    length_ms: int
    params: dict[str, str]  # the optional media.ad.* metadata: name, advertiser, campaign, ...


_MOVIE_GENRES: Final = (
    "Drama", "Comedy", "Action", "Thriller", "Documentary", "Horror", "Romance", "Animation",
    "Science Fiction", "Family",
)  # fmt: skip
_SERIES_GENRES: Final = (
    "Drama", "Comedy", "Crime", "Reality", "Documentary", "Science Fiction", "Kids", "Lifestyle",
)  # fmt: skip
_NEWS_GENRES: Final = ("News", "Business News", "Weather", "Politics")
_SPORTS: Final = ("Football", "Basketball", "Ice Hockey", "Baseball", "Soccer", "Rugby")
_CLIP_GENRES: Final = ("Comedy", "Music", "Gaming", "How-to", "Pets", "Travel", "Food")
_PODCAST_GENRES: Final = ("True Crime", "Business", "Technology", "History", "Comedy", "Health")
_TV_RATINGS: Final = ("TV-G", "TV-PG", "TV-14", "TV-MA")
_FILM_RATINGS: Final = ("G", "PG", "PG-13", "R")
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
    return [_with_structure(title, profile, rng) for title in titles]


def build_ads(fake: Faker, profile: Profile, rng: random.Random) -> list[AdCreative]:
    """The run's ad creatives: advertiser, campaign and creative ids from Faker pools."""
    advertisers = [fake.company() for _ in range(max(3, profile.ads.creatives // 4))]
    ads = []
    for index in range(profile.ads.creatives):
        advertiser = advertisers[fake.random.randrange(len(advertisers))]
        product = _word(fake, "noun").title()
        creative = fake.hexify("^^^^^^^^")
        length_ms = max(1000, round(profile.ads.ad_seconds.sample(rng)) * 1000)
        slug = _slug(advertiser)
        ads.append(
            AdCreative(
                ad_id=f"ad-{index:05d}-{creative}",
                length_ms=length_ms,
                params={
                    "media.ad.name": f"{advertiser} {product} {length_ms // 1000}s",
                    "media.ad.advertiser": advertiser,
                    "media.ad.campaignId": f"cmp-{slug[:12]}-{fake.numerify('####')}",
                    "media.ad.creativeId": f"cr-{creative}",
                    "media.ad.creativeURL": f"https://ads.example.com/{slug[:16]}/{creative}.mp4",
                    "media.ad.siteId": f"site-{fake.random_int(1, 40):03d}",
                    "media.ad.placementId": f"pl-{fake.random_int(1000, 9999)}",
                },
            )
        )
    return ads


# --- structure of on-demand titles --------------------------------------------------------------


def _with_structure(title: Title, profile: Profile, rng: random.Random) -> Title:
    length_ms = round(title.length_seconds * 1000)
    chapters: tuple[Chapter, ...] = ()
    if profile.content.chapters is not None:
        count = max(0, round(profile.content.chapters.sample(rng)))
        chapters = _split(length_ms, count, rng)
    cues = _cue_points(length_ms, profile.ads.midroll_interval_seconds, chapters)
    return Title(title.media_id, title.name, title.length_seconds, title.metadata, chapters, cues)


def _split(length_ms: int, count: int, rng: random.Random) -> tuple[Chapter, ...]:
    """`count` contiguous chapters covering the content, of roughly equal length."""
    if count < 1:
        return ()
    weights = [rng.uniform(0.7, 1.3) for _ in range(count)]
    total = sum(weights)
    chapters = []
    offset = 0
    for index, weight in enumerate(weights, start=1):
        end = length_ms if index == count else offset + round(length_ms * weight / total)
        chapters.append(Chapter(index, offset, end - offset, f"Chapter {index}"))
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


def _word(fake: Faker, part_of_speech: str) -> str:
    # Faker knows parts of speech in a few locales only; elsewhere any word of the locale will do.
    try:
        word: str = fake.word(part_of_speech=part_of_speech)
    except ValueError:
        word = fake.word()
    return word


def _headline(fake: Faker) -> str:
    """A title that reads like one: a few templates over Faker's words, names and places."""
    noun = _word(fake, "noun").title()
    adjective = _word(fake, "adjective").title()
    templates = (
        f"The {adjective} {noun}",
        f"{noun} of {fake.city()}",
        f"{fake.last_name()}'s {noun}",
        f"{fake.color_name()} {noun}",
        f"Return to {fake.city()}",
        f"{adjective} {noun}s",
    )
    return templates[fake.random.randrange(len(templates))]


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _common(fake: Faker, profile: Profile) -> dict[str, str]:
    data = {"media.assetId": fake.uuid4()}
    if profile.content.publisher:
        data["media.publisher"] = profile.content.publisher
    return data


def _length(profile: Profile, rng: random.Random) -> float:
    # Lengths are kept to the millisecond: the playhead is computed in whole milliseconds.
    return max(1.0, round(profile.content.length.sample(rng), 3))


def _movies(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        name = _headline(fake)
        released = fake.date_between(_EARLIEST, _LATEST)
        digital = released + timedelta(days=fake.random_int(60, 400))
        metadata = _common(fake, profile) | {
            "media.genre": fake.random_element(_MOVIE_GENRES),
            "media.rating": fake.random_element(_FILM_RATINGS),
            "media.originator": f"{fake.last_name()} Pictures",
            "media.firstAirDate": released.isoformat(),
            "media.firstDigitalDate": digital.isoformat(),
            "media.showType": "3",
        }
        titles.append(
            Title(f"movie-{index:05d}-{_slug(name)}", name, _length(profile, rng), metadata)
        )
    return titles


def _network(fake: Faker) -> str:
    return f"{fake.last_name()} {fake.random_element(('TV', 'Network', 'Channel', 'Studios'))}"


def _episodes(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    titles: list[Title] = []
    while len(titles) < profile.content.titles:
        show = _headline(fake)
        network = _network(fake)
        genre = fake.random_element(_SERIES_GENRES)
        rating = fake.random_element(_TV_RATINGS)
        premiere = fake.date_between(_EARLIEST, _LATEST - timedelta(days=3 * 365))
        show_id = f"series-{len(titles):05d}-{_slug(show)}"
        for season in range(1, fake.random_int(1, 4) + 1):
            season_start = premiere + timedelta(days=365 * (season - 1))
            for episode in range(1, fake.random_int(6, 12) + 1):
                if len(titles) == profile.content.titles:
                    break
                aired = season_start + timedelta(weeks=episode - 1)
                name = fake.sentence(nb_words=fake.random_int(2, 5)).rstrip(".")
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


def _programmes(fake: Faker, count: int) -> tuple[str, ...]:
    return tuple(_headline(fake) for _ in range(count))


def _news_channels(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        network = f"{fake.city()} {fake.random_element(('News', 'Live', 'Now', 'One'))}"
        metadata = _common(fake, profile) | {
            "media.network": network,
            "media.genre": fake.random_element(_NEWS_GENRES),
            "media.rating": fake.random_element(_TV_RATINGS[:3]),
            "media.feed": fake.random_element(_FEEDS),
            "media.originator": network,
        }
        shows = tuple(f"{network} {part}" for part in ("Morning", "Today", "Tonight", "Late"))
        titles.append(
            Title(f"live-{index:05d}-{_slug(network)}", f"{network} 24/7", _length(profile, rng),
                  metadata, programmes=shows)
        )  # fmt: skip
    return titles


def _sports_events(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        sport = fake.random_element(_SPORTS)
        home, away = (f"{fake.city()} {_word(fake, 'noun').title()}s" for _ in "ab")
        network = f"{fake.last_name()} Sports"
        name = f"{home} vs {away}"
        metadata = _common(fake, profile) | {
            "media.show": f"{sport} Live",
            "media.genre": sport,
            "media.network": network,
            "media.originator": network,
            "media.rating": "TV-G",
            "media.feed": fake.random_element(_FEEDS),
        }
        periods = tuple(f"{name}: period {n}" for n in range(1, 5))
        titles.append(
            Title(f"sports-{index:05d}-{_slug(name)}", name, _length(profile, rng), metadata,
                  programmes=periods)
        )  # fmt: skip
    return titles


def _linear_channels(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        network = _network(fake)
        metadata = _common(fake, profile) | {
            "media.network": network,
            "media.originator": network,
            "media.genre": fake.random_element(_SERIES_GENRES),
            "media.rating": fake.random_element(_TV_RATINGS),
            "media.feed": fake.random_element(_FEEDS),
        }
        titles.append(
            Title(f"linear-{index:05d}-{_slug(network)}", network, _length(profile, rng), metadata,
                  programmes=_programmes(fake, 12))
        )  # fmt: skip
    return titles


def _clips(fake: Faker, profile: Profile, rng: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        name = fake.sentence(nb_words=fake.random_int(3, 7)).rstrip(".")
        uploader = fake.user_name()
        metadata = _common(fake, profile) | {
            "media.genre": fake.random_element(_CLIP_GENRES),
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
    titles: list[Title] = []
    while len(titles) < profile.content.titles:
        noun = _word(fake, "noun").title()
        show = f"The {noun} {fake.random_element(('Hour', 'Podcast', 'Show', 'Files'))}"
        host = fake.name()
        genre = fake.random_element(_PODCAST_GENRES)
        network = _network(fake)
        first = fake.date_between(date(2015, 1, 1), _LATEST - timedelta(days=400))
        for episode in range(1, fake.random_int(5, 30) + 1):
            if len(titles) == profile.content.titles:
                break
            name = fake.sentence(nb_words=fake.random_int(3, 6)).rstrip(".")
            metadata = _common(fake, profile) | {
                "media.show": show,
                "media.episode": str(episode),
                "media.author": host,
                "media.artist": host,
                "media.label": network,
                "media.genre": genre,
                "media.firstDigitalDate": (first + timedelta(weeks=episode)).isoformat(),
            }
            media_id = f"podcast-{len(titles):05d}-{_slug(show)}-e{episode:03d}"
            titles.append(Title(media_id, name, _length(profile, rng), metadata))
    return titles
