"""Names for the catalogue: titles, shows, episodes, chapters, channels, schedules, teams and ads.

Why curated lists and not Faker's words: a demo report suite is read by people, and its top
titles, programmes and advertisers are the first thing they read. Faker's lorem and word lists
give "Pregnant Ratios" and "Boston Pregnancys"; a reader stops believing the data at once.
Here every name comes from a genre's own templates, filled from short lists written so that any
combination reads as a real title of that genre would ("The Quiet Tenant" for a thriller, "Pip
and the Moon Kite" for a family film). All brands, shows, channels, leagues and teams are
fictional; real places appear only where real titles name them (a travel vlog's city, a
romance's Lisbon).

The lists are English. Faker is still used for people's names and, outside English locales,
for towns, so that a `de_DE` audience watches shows with German characters and towns in them.
Every draw goes through the `fake` of the catalogue being built (its seeded `random`), never
the global `random`, so a catalogue seed gives the same names on any machine.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple, TypeVar

__all__ = [
    "ANY_SUBJECT",
    "DOCUMENTARY_CHAPTERS",
    "PLACES",
    "PODCAST_NUMBERING",
    "SUBJECTS",
    "Subject",
    "ad_campaigns",
    "ad_host",
    "advertiser",
    "cast",
    "chance",
    "chapter_names",
    "clip_title",
    "english",
    "episode_title",
    "episode_titles",
    "fill",
    "film_rating",
    "league",
    "linear_channel",
    "linear_schedule",
    "movie_title",
    "network",
    "network_stems",
    "networks",
    "news_channel",
    "news_schedule",
    "news_station",
    "number_word",
    "ordinal",
    "periods",
    "person",
    "pick",
    "place",
    "plural",
    "podcast_episode",
    "podcast_label",
    "podcast_show",
    "podcast_topic",
    "podcast_topics",
    "season_titles",
    "series",
    "series_name",
    "sports_network",
    "sports_networks",
    "studio",
    "stutters",
    "team_mascots",
    "unique",
    "uploader",
]

# Faker is untyped here (mypy ignores its imports): `Any` says so once, not at every call.
Fake = Any
T = TypeVar("T")
Words = Mapping[str, Sequence[str]]


# --- drawing ------------------------------------------------------------------------------------


def pick(fake: Fake, options: Sequence[T]) -> T:
    """One of `options`, drawn with the catalogue's seeded RNG."""
    index = int(fake.random.randrange(len(options)))
    return options[index]


def chance(fake: Fake, probability: float) -> bool:
    return bool(fake.random.random() < probability)


def english(fake: Fake) -> bool:
    """True when the audience's locale is an English one (en, en_US, en_GB, ...)."""
    return str(fake.locales[0]).lower().startswith("en")


def place(fake: Fake) -> str:
    """A town: a fictional one in English, the locale's own (Faker's) elsewhere.

    Faker's English towns are made up from a person's name ("East Michaelmouth"): they read as
    generated. Other locales' Faker towns are real towns of that country, which is what a
    German or French catalogue would name."""
    if english(fake):
        return pick(fake, PLACES)
    return str(fake.city())


def plural(name: str) -> str:
    """A family's name in the plural ("the Hendersons", "the Joneses")."""
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return f"{name}es"
    return f"{name}s"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


_NUMBER_WORDS: Final = (
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve",
)  # fmt: skip


def number_word(number: int) -> str:
    return _NUMBER_WORDS[number] if 0 <= number < len(_NUMBER_WORDS) else str(number)


_FIELD: Final = re.compile(r"\{([a-z_]+?)(\d?)\}")


def fill(fake: Fake, template: str, words: Words, **fixed: str) -> str:
    """`template` with each {field} drawn: from `fixed`, a person or a town, or `words`.

    A field that appears twice as {city} and {city2} draws two different values, so a night
    train never runs from Vienna to Vienna and two hosts never share a first name. A draw
    that stutters ("Ryan Ryan": some first names are also surnames) is drawn again."""
    name = _fill(fake, template, words, fixed)
    for _ in range(10):
        if not stutters(name):
            break
        name = _fill(fake, template, words, fixed)
    return name


def stutters(name: str) -> bool:
    """True when a word follows itself ("Ryan Ryan", "the the"), whatever its case."""
    words = [word.strip(".,:;!?()'\"").lower() for word in name.split()]
    return any(a == b != "" for a, b in itertools.pairwise(words))


def person(fake: Fake) -> str:
    """A person's full name from the locale, never "Ryan Ryan"."""
    name = f"{fake.first_name()} {fake.last_name()}"
    for _ in range(10):
        if not stutters(name):
            break
        name = f"{fake.first_name()} {fake.last_name()}"
    return name


def _fill(fake: Fake, template: str, words: Words, fixed: Mapping[str, str]) -> str:
    used: dict[str, set[str]] = {}

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key + match.group(2) in fixed:
            return fixed[key + match.group(2)]
        seen = used.setdefault(key, set())
        value = _draw(fake, key, words)
        for _ in range(20):
            if value not in seen:
                break
            value = _draw(fake, key, words)
        seen.add(value)
        return value

    return _FIELD.sub(one, template)


def _draw(fake: Fake, key: str, words: Words) -> str:
    people: dict[str, Callable[[], str]] = {
        "first": lambda: str(fake.first_name()),
        "last": lambda: str(fake.last_name()),
        "lasts": lambda: plural(str(fake.last_name())),
        "place": lambda: place(fake),
    }
    if key in people:
        return people[key]()
    return pick(fake, words[key] if key in words else SHARED[key])


def unique(
    fake: Fake,
    draw: Callable[[], str],
    taken: set[str],
    attempts: int = 40,
    spare: Callable[[], Iterable[str]] | None = None,
) -> str:
    """A name not in `taken` (and then taken): a catalogue does not list two films as one.

    `draw` is tried `attempts` more times; when every draw is taken (a short list used up), the
    name is one of `spare()` still free: every name the caller's draw can make, such as all of
    a show's possible episode titles. Only when those are all taken too is the last draw
    numbered ("Rivers of Ice 2"), which none of the catalogue's lists comes near."""
    name = draw()
    for _ in range(attempts):
        if name not in taken:
            break
        name = draw()
    if name in taken and spare is not None:
        free = sorted(set(spare()) - taken)  # sorted: a set's order is not a seed's
        if free:
            name = pick(fake, free)
    if name in taken:
        number = 2
        while f"{name} {number}" in taken:
            number += 1
        name = f"{name} {number}"
    taken.add(name)
    return name


# --- shared lists -------------------------------------------------------------------------------

# Towns that sound like somewhere without being a famous city (and so without its real teams).
PLACES: Final = (
    "Harbor City", "Port Ellery", "Ashford", "Brookhaven", "Cedar Ridge", "Millbrook", "Riverton",
    "Fairhaven", "Lakemont", "Stonebridge", "Westbrook", "Oak Hollow", "Granite Falls",
    "Silver Lake", "Elk River", "Marlow Bay", "Northfield", "Bramford", "Kingsbridge", "Redfield",
    "Willow Creek", "Copper Springs", "Maple Grove", "Hollis Point", "Greywater", "Thornbury",
    "Larkspur", "Dunmore", "Bellhaven", "Eastmoor", "Wrenfield", "Alder Springs", "Pinecrest",
    "Sutton Falls", "Ravenport", "Cold Spring", "Halden", "Juniper Flats", "Fox Hollow",
    "Hartwell", "Lindenwood", "Port Carrow", "Saltmarsh", "Tamsworth", "Briar Glen", "Glenmoor",
    "Easton Heights", "Ferris Landing",
)  # fmt: skip

_STREETS: Final = (
    "Mill Road", "Harrow Lane", "Quarry Street", "Linden Avenue", "Bell Street", "Tanner's Lane",
    "Orchard Road", "Chestnut Row", "Water Street",
)  # fmt: skip

# Heroes of films and shows for children: names children's media uses, not Faker's adults.
_HEROES: Final = (
    "Pip", "Milo", "Juniper", "Bo", "Tilly", "Ziggy", "Otto", "Luna", "Fennel", "Nim", "Poppy",
    "Wren", "Bramble", "Clementine", "Rufus", "Hazel", "Pepper", "Tuck",
)  # fmt: skip

SHARED: Final[Words] = {
    "street": _STREETS,
    "hero": _HEROES,
    "season": ("Summer", "Winter", "Autumn", "Spring", "One Summer", "That Winter"),
    "ordinal": ("Fourth", "Sixth", "Ninth", "Twelfth", "Thirteenth"),
    "captain": ("Whiskers", "Puddle", "Barnacle", "Moonbeam", "Socks"),
}


# --- films --------------------------------------------------------------------------------------

MOVIE_TEMPLATES: Final[Mapping[str, tuple[str, ...]]] = {
    "Thriller": (
        "The {adj} {noun}", "The {adj} {noun}", "{cold} {spot}", "{cold} {spot}",
        "The {who} in the {dark}", "Night {night}", "The {place} {noun}", "{whole}", "{whole}",
    ),
    "Drama": (
        "The {abstract} of {thing}", "{first}'s {possession}", "{a_phrase}",
        "{season} in {place}", "What the {nature} Knew", "The House on {street}", "{whole}",
        "{whole}",
    ),
    "Comedy": (
        "{first} Gets {gets}", "The {event} {trouble}", "The {event} {trouble}", "Meet the {lasts}",
        "Totally Not {notreally}", "{count} Bad {bad}", "My {relation}'s {thing}", "{whole}",
        "{whole}",
    ),
    "Action": (
        "{hard} {noun}", "{hard} {noun}", "Operation {operation}", "The {place} Job",
        "Code {code}", "{whole}", "{whole}",
    ),
    "Horror": (
        "The {noun}", "The {noun}", "Don't {dont}", "Something in the {where}",
        "The Whispering {whispering}", "Below {place}", "{whole}", "{whole}",
    ),
    "Romance": (
        "{season} in {city}", "Letters to {first}", "{first} and {first2}",
        "The {shop} on {street}", "A {occasion} to Remember", "{whole}", "{whole}",
    ),
    "Animation": (
        "{hero} and the {wonder}", "{hero} and the {wonder}", "The Brave Little {animal}",
        "{hero}'s Big {big}", "Captain {captain}", "The {great} {object} {quest}", "{whole}",
    ),
    "Family": (
        "{hero} and the {wonder}", "The Dog Who {dog}", "Our {time} at {place}", "Camp {camp}",
        "The {great} {object} {quest}", "{whole}", "{whole}",
    ),
    "Science Fiction": (
        "{star} {number}", "The {body} {noun}", "Beyond the {beyond}", "Echoes of {body}",
        "The {adj} {realm}", "{whole}", "{whole}",
    ),
    "Documentary": ("{topic}",),  # a topic and its fitting subtitle: see _DOCUMENTARIES
}  # fmt: skip

MOVIE_WORDS: Final[Mapping[str, Words]] = {
    "Thriller": {
        "adj": ("Last", "Silent", "Final", "Seventh", "Quiet", "Hidden", "Missing", "Fifth",
                "Broken", "Unseen", "Third", "Lost"),
        "noun": ("Witness", "Alibi", "Signal", "Protocol", "Passenger", "Informant", "Verdict",
                 "Contract", "Ledger", "Hour", "Confession", "Caller", "Tenant", "Tape"),
        "cold": ("Cold", "Dead", "Black", "Still", "Iron", "Glass", "Grey", "Hollow"),
        "spot": ("Harbor", "Water", "Station", "Creek", "Tide", "Ridge", "Crossing", "Point",
                 "Sound", "Road"),
        "who": ("Stranger", "Man", "Woman", "Voice", "Passenger", "Witness"),
        "dark": ("Dark", "Fog", "Snow", "Rain", "Static", "Smoke"),
        "night": ("Crossing", "Watch", "Train", "Shift", "Ferry", "Call"),
        "whole": ("No Way Back", "Blind Spot", "Last Known Address", "Eleven Minutes",
                  "The Quiet Room", "Hold Your Breath", "Nowhere to Run", "Second Sight",
                  "Out of Reach", "Ghost Signal", "Before the Fall", "Dead Letter Office"),
    },
    "Drama": {
        "abstract": ("Weight", "Distance", "Shape", "Sound", "Color", "Memory", "Geography",
                     "Language"),
        "thing": ("Water", "Silence", "Small Things", "Leaving", "Home", "Us", "Rain",
                  "Forgiveness", "Salt"),
        "possession": ("House", "Garden", "Daughter", "Promise", "Winter", "War", "Song",
                       "Return", "Last Summer"),
        "a_phrase": ("A Quiet Life", "A Borrowed Life", "A Late Harvest", "A Certain Kindness",
                     "A Small Mercy", "A Simple Truth", "A Long Season", "A Good Inheritance"),
        "nature": ("River", "Orchard", "Lake", "Tide", "Wind", "Snow", "Lighthouse Keeper"),
        "whole": ("Undertow", "Small Mercies", "The Inheritance", "Still Life", "Long Way Home",
                  "Paper Boats", "The Good Year", "Shoreline", "Everything We Kept",
                  "Borrowed Time", "The Quiet Hours", "After the Storm", "Between the Tides",
                  "Where the Road Bends", "Salt and Stone"),
    },
    "Comedy": {
        "gets": ("Married", "Fired", "a Dog", "Even", "Lost", "a Life", "Promoted", "Organized",
                 "Famous"),
        "event": ("Wedding", "Reunion", "Road Trip", "Sleepover", "Bachelor Party", "Holiday",
                  "Office Party", "Camping Trip", "Dinner Party", "Yard Sale"),
        "trouble": ("Disaster", "Plan", "Situation", "Incident", "Problem", "Mix-Up"),
        "notreally": ("a Spy", "a Robbery", "My Boss", "a Date", "a Cult", "Retired"),
        "count": ("Two", "Three", "Seven", "Ten", "Twelve"),
        "bad": ("Dates", "Ideas", "Decisions", "Haircuts", "Roommates", "Weddings"),
        "relation": ("Mother-in-Law", "Landlord", "Neighbor", "Boss", "Ex"),
        "thing": ("Wedding", "Boat", "Secret", "Birthday", "Garage Sale"),
        "whole": ("Second Honeymoon", "Camp Catastrophe", "Overbooked", "Plus One",
                  "Out of Office", "Family Leave", "Group Project", "Spare Keys", "Nobody Panic",
                  "The Understudy", "Working Title", "Reply All", "No Refunds"),
    },
    "Action": {
        "hard": ("Iron", "Steel", "Rogue", "Zero", "Black", "Red", "Shadow", "Crimson",
                 "Burning"),
        "noun": ("Protocol", "Strike", "Vector", "Horizon", "Sector", "Directive", "Force",
                 "Target"),
        "operation": ("Nightfall", "Blue Fox", "Sandstorm", "Tempest", "Glass Tiger",
                      "Silent River", "Longbow", "Cold Summit"),
        "code": ("Zero", "Crimson", "Eleven", "Amber"),
        "whole": ("Countdown", "High Ground", "Breakaway", "Maximum Velocity", "Last Stand",
                  "Hostile Airspace", "Extraction Point", "Overdrive", "Redline",
                  "No Safe Harbor"),
    },
    "Horror": {
        "noun": ("Hollow", "Cellar", "Visitor", "Attic", "Well", "Lodge", "Offering", "Nursery",
                 "Lullaby", "Congregation", "Summoning"),
        "dont": ("Open the Cellar", "Look Back", "Go in the Water", "Answer the Door",
                 "Turn Off the Light", "Say Her Name"),
        "where": ("Walls", "Water", "Pines", "Attic", "Fog", "Snow"),
        "whispering": ("Pines", "Marsh", "Woods", "Hall"),
        "whole": ("It Knows Your Name", "She Waits Below", "They Come at Dusk", "Night Nurse",
                  "Feeding Hour", "The Thirteenth Guest", "Hush, Little One",
                  "Skin of the Lake", "Room 9", "Last Rites", "Bone Orchard"),
    },
    "Romance": {
        "city": ("Paris", "Lisbon", "Vermont", "Kyoto", "Provence", "Tuscany", "Vienna",
                 "Santorini", "Nova Scotia", "the Highlands", "Copenhagen"),
        "shop": ("Bookshop", "Bakery", "Inn", "Vineyard", "Flower Shop", "Café"),
        "occasion": ("Summer", "Christmas", "Weekend", "Wedding", "Winter"),
        "whole": ("Second Chances", "Meet Me in the Middle", "The Last Dance", "Hearts Adrift",
                  "Falling Slowly", "Always, Maybe", "Love in Translation", "Two Tickets Home",
                  "Between Us", "Slow Burn", "Say Yes"),
    },
    "Animation": {
        "wonder": ("Moon Kite", "Lantern Fox", "Cloud Whale", "Paper Dragon", "Clockwork Heart",
                   "Star Map", "Runaway Comet", "Sleeping Giant", "Glass Mountain",
                   "Lost Lighthouse", "Sky Garden"),
        "animal": ("Fox", "Tortoise", "Lighthouse", "Tugboat", "Owl", "Snail", "Robot", "Cloud"),
        "big": ("Adventure", "Balloon", "Move", "Race", "Idea", "Snow Day", "Day Out"),
        "great": ("Great", "Secret", "Amazing", "Midnight", "Marvelous"),
        "object": ("Acorn", "Cloud", "Snowflake", "Pancake", "Marble", "Kite"),
        "quest": ("Caper", "Rescue", "Race", "Hunt", "Mystery", "Heist"),
        "whole": ("Tumbleweed", "Up the Chimney", "Sprocket", "Puddle Jumpers",
                  "Beneath the Lily Pads", "Moonbeam Bay"),
    },
    "Family": {
        "wonder": ("Moon Kite", "Lantern Fox", "Star Map", "Runaway Comet", "Sky Garden"),
        "dog": ("Saved Summer", "Came Home", "Ran for Mayor", "Found Her Way Home",
                "Learned to Surf", "Saved the Farm"),
        "time": ("Summer", "Year", "Winter", "Holiday"),
        "camp": ("Pinecone", "Willow", "Tall Pines", "Bluebird", "Hidden Lake"),
        "great": ("Great", "Secret", "Midnight"),
        "object": ("Acorn", "Pancake", "Marble", "Kite"),
        "quest": ("Caper", "Rescue", "Race", "Hunt"),
        "whole": ("The Treehouse Club", "Grandpa's Workshop", "Science Fair", "Lemonade Summer",
                  "Home by Sundown", "Snow Day Heroes", "Go-Kart Kings", "Thunder Pony"),
    },
    "Science Fiction": {
        "star": ("Meridian", "Helix", "Orion", "Vega", "Arcadia", "Halcyon", "Sentinel", "Nadir"),
        "number": ("7", "9", "IX", "One", "Zero", "Prime"),
        "body": ("Europa", "Titan", "Proxima", "Callisto", "Enceladus", "Ganymede", "Tau Ceti"),
        "noun": ("Signal", "Directive", "Drift", "Transmission", "Accord", "Expedition",
                 "Incident"),
        "beyond": ("Veil", "Outer Ring", "Last Horizon", "Kuiper Belt", "Dark Gate"),
        "adj": ("Orbital", "Quantum", "Glass", "Hollow", "Silent", "Drowned", "Last"),
        "realm": ("Garden", "Frontier", "City", "Colony", "Sky", "Moon", "Archive"),
        "whole": ("Starfall", "Ascension Day", "Null Space", "The Long Orbit", "Parallax",
                  "Afterlight", "Cryosleep", "Second Sun", "Low Orbit", "Deep Field"),
    },
}  # fmt: skip

# A documentary's title and the subtitles that fit it: drawn as a pair, never crossed.
_DOCUMENTARIES: Final = (
    ("Rivers of Ice", ("The Arctic Melt", "A Year on the Glacier")),
    ("The Hidden Ocean", ("Life in the Twilight Zone", "Voyage to the Deep")),
    ("Kingdom of Bees", ("Inside the Hive", "A Year with the Beekeepers")),
    ("The Salt Road", ("Caravans of the Sahara",)),
    ("Concrete Forest", ("Wildlife of the City", "How Nature Moved Downtown")),
    ("Under the Canopy", ("Secrets of the Rainforest",)),
    ("Made by Hand", ("The Last Craftsmen", "Makers of the Old Trades")),
    ("The Long Harvest", ("A Farming Year", "Families of the Plains")),
    ("Night Shift", ("The City While You Sleep",)),
    ("Wings over the Delta", ("The Great Migration",)),
    ("The Last Lighthouse Keepers", ()),
    ("Fault Lines", ("Living with Earthquakes",)),
    ("Voices of the Valley", ("An Oral History",)),
    ("Seeds of Tomorrow", ("The Race to Save Our Crops",)),
    ("Frozen Frontier", ("Winter in the Far North",)),
    ("The Mapmakers", ("Drawing the World",)),
    ("Deep Time", ("Reading the Rocks",)),
    ("Wolves Return", ("The Rewilding of a Valley",)),
    ("The Coffee Trail", ("From Farm to Cup",)),
    ("Tides of Change", ("Coastal Towns on the Edge",)),
    ("Street Food Nations", ("Eating Across Asia", "The Night Markets")),
    ("The Deep Sky", ("Astronomers at the Edge",)),
    ("Paper and Ink", ("The Last Printers",)),
    ("The Orchestra", ("A Season Behind the Curtain",)),
)  # fmt: skip


def movie_title(fake: Fake, genre: str) -> str:
    """A film's title that reads as a film of this genre."""
    if genre == "Documentary":
        main, subtitles = pick(fake, _DOCUMENTARIES)
        if subtitles and chance(fake, 0.7):
            return f"{main}: {pick(fake, subtitles)}"
        return main
    templates = MOVIE_TEMPLATES.get(genre, MOVIE_TEMPLATES["Drama"])
    return fill(fake, pick(fake, templates), MOVIE_WORDS.get(genre, MOVIE_WORDS["Drama"]))


_FILM_RATINGS: Final[Mapping[str, tuple[str, ...]]] = {
    "Animation": ("G", "PG"),
    "Family": ("G", "PG", "PG"),
    "Documentary": ("G", "PG", "PG-13"),
    "Horror": ("PG-13", "R", "R"),
    "Thriller": ("PG-13", "R"),
    "Action": ("PG-13", "PG-13", "R"),
}


def film_rating(fake: Fake, genre: str) -> str:
    """A rating that fits the genre: no R-rated cartoons, no G-rated slashers."""
    return pick(fake, _FILM_RATINGS.get(genre, ("PG", "PG-13", "PG-13", "R")))


_STUDIO_STEMS: Final = (
    "Northlight", "Bluefern", "Granite Hill", "Silver Lantern", "Red Kite", "Harborview",
    "Tall Pine", "Blackwater", "Lodestar", "Paper Crane", "Wildcard", "Brass Compass", "Foxglove",
    "Quarry Lane", "Ninth Street", "Longshore", "Saltbox", "Half Moon", "Copperline", "Wide Sky",
    "Stillwater", "Marigold", "Ironwood", "Kite Hill", "Seven Bridges", "Glasshouse",
    "Sparrow Lane",
)  # fmt: skip
_STUDIO_SUFFIXES: Final = (
    "Pictures", "Films", "Studios", "Entertainment", "Productions", "Film Company", "Media",
)  # fmt: skip


def studio(fake: Fake, genre: str = "") -> str:
    """A film studio or production company."""
    if genre == "Animation":
        return f"{pick(fake, _STUDIO_STEMS)} Animation"
    if chance(fake, 0.15):
        return fill(fake, "{last} & {last2} Films", {})
    return f"{pick(fake, _STUDIO_STEMS)} {pick(fake, _STUDIO_SUFFIXES)}"


# --- series -------------------------------------------------------------------------------------

_NETWORK_STEMS: Final = (
    "Northstar", "Bluebird", "Meridian", "Lantern", "Keystone", "Redwood", "Summit", "Beacon",
    "Compass", "Evergreen", "Skyline", "Silverline", "Tidewater", "Cardinal", "Granite", "Ember",
    "Fable", "Kestrel", "Orchard", "Harbor",
)  # fmt: skip
_NETWORK_TEMPLATES: Final = (
    "{stem} TV", "{stem} One", "{stem} Network", "{stem} Television", "The {stem} Channel",
    "{stem}+",
)  # fmt: skip


def network(fake: Fake, stem: str = "") -> str:
    """A television network or streaming service that commissions series."""
    return pick(fake, _NETWORK_TEMPLATES).format(stem=stem or pick(fake, _NETWORK_STEMS))


def networks(fake: Fake, count: int) -> list[str]:
    """A catalogue's networks, each of its own stem: never "Summit TV" beside "The Summit
    Channel", which a reader takes for one network listed twice. At most one per stem."""
    return [network(fake, stem) for stem in network_stems(fake, min(count, len(_NETWORK_STEMS)))]


def network_stems(fake: Fake, count: int, stems: Sequence[str] = _NETWORK_STEMS) -> list[str]:
    """`count` stems of a catalogue's networks or channels, all different while there are
    enough; beyond that a stem names sister channels ("Redwood Kids", "Redwood Crime")."""
    drawn: list[str] = []
    while len(drawn) < count:
        drawn += fake.random.sample(list(stems), min(count - len(drawn), len(stems)))
    return drawn


SERIES_TEMPLATES: Final[Mapping[str, tuple[str, ...]]] = {
    "Drama": (
        "{place}", "The {lasts}", "{place} General", "Mercy {mercy}", "The {institution}",
        "{whole}", "{whole}",
    ),
    "Crime": (
        "{place} PD", "Homicide: {place}", "Detective {last}", "{last} & {last2}",
        "The {ordinal} Precinct", "{whole}", "{whole}",
    ),
    "Comedy": (
        "{first} & {first2}", "The {setting}", "The {setting}", "Room for {room}",
        "{first} Figures It Out", "{whole}", "{whole}",
    ),
    "Science Fiction": (
        "{star}", "{body} Station", "{star} Rising", "The {adj} {realm}", "{whole}", "{whole}",
    ),
    "Kids": (
        "{hero} and Friends", "The {kid_adj} Adventures of {hero}", "Captain {captain}",
        "Tiny {tiny}", "{academy} Academy", "Bubble {bubble}", "{hero} the {job}",
    ),
}  # fmt: skip
# (Documentaries, reality and lifestyle shows are named by their subject: see SUBJECTS.)

SERIES_WORDS: Final[Mapping[str, Words]] = {
    "Drama": {
        "mercy": ("Ward", "Street", "Point"),
        "institution": ("Station", "Vineyard", "Ranch", "Boatyard", "Orchard"),
        "whole": ("Saints and Strangers", "Small Mercies", "Northern Reach", "Heir Apparent",
                  "The Long Summer", "Open Water", "High Tide", "Common Ground", "Kin", "Tenure",
                  "Homefront", "Shiftwork"),
    },
    "Crime": {
        "whole": ("Cold Case Unit", "Dark Water", "Chain of Evidence", "Missing Persons",
                  "The Inspector", "Burden of Proof", "Undercover Nights", "Precinct Zero",
                  "The Fixer", "Deadline"),
    },
    "Comedy": {
        "setting": ("Breakroom", "Cul-de-sac", "Night Shift", "Roommates", "Neighbors",
                    "Landlord", "Carpool", "Group Chat", "Substitute"),
        "room": ("Two", "Three", "One More"),
        "whole": ("Starting Over", "Brothers-in-Law", "Parents' Evening", "Second Act",
                  "Happy Hour", "Almost Adults", "Part-Timers", "Trivia Night",
                  "Strictly Business", "Small Business"),
    },
    "Reality": {
        "skill": ("Pottery", "Garden", "Camper Van", "Cake", "Woodshop", "Quilting"),
        "contest": ("Challenge", "Showdown", "Throwdown", "Face-Off"),
        "homes": ("Cabins", "Barns", "Lake Houses", "Tiny Homes"),
        "love": ("Ranch", "Farm", "Slopes", "Lake"),
        "rescue": ("Tiny House", "Backyard", "Garage", "Attic", "Basement"),
    },
    "Documentary": {
        "region": ("Patagonia", "Borneo", "Alaska", "Scandinavia", "Mongolia", "Tasmania",
                   "Yukon"),
    },
    "Science Fiction": {
        "star": MOVIE_WORDS["Science Fiction"]["star"],
        "body": MOVIE_WORDS["Science Fiction"]["body"],
        "adj": MOVIE_WORDS["Science Fiction"]["adj"],
        "realm": MOVIE_WORDS["Science Fiction"]["realm"],
        "whole": ("Outer Ring", "Signal Lost", "Starfall", "The Long Orbit", "Generation Ship",
                  "Terraform", "Colony Nine"),
    },
    "Kids": {
        "kid_adj": ("Amazing", "Big", "Brilliant", "Curious", "Wonderful"),
        "tiny": ("Trucks", "Dinos", "Builders", "Chefs", "Explorers"),
        "academy": ("Puppy", "Penguin", "Dragon", "Dino", "Kitten"),
        "bubble": ("Bay", "Town", "Island"),
        "job": ("Firefighter", "Gardener", "Baker", "Explorer", "Inventor"),
    },
    "Lifestyle": {
        "food_adj": ("Thrifty", "Weeknight", "Sunday", "Budget", "Weekend"),
        "food_role": ("Cook", "Baker"),
        "home_adj": ("Thrifty", "Small-Space", "Budget", "Weekend"),
        "home_role": ("Renovator", "Decorator"),
        "garden_adj": ("Backyard", "Weekend", "Small-Space", "Sunday"),
    },
}  # fmt: skip


class Subject(NamedTuple):
    """What a series is about, where its episodes depend on it: a documentary about owls has
    no episode called "Deserts", a home-flipping show no grand final."""

    series: tuple[str, ...]  # templates of its series' names
    episodes: tuple[str, ...]  # its episodes' titles
    people: tuple[str, ...] = ()  # titles of episodes about one of a season's cast ("{who}")
    finals: tuple[str, ...] = ()  # a season's last episode, where a season ends in a final


# By genre and subject. A series' episodes come from its subject's list, and some from its
# genre's titles that fit any of the genre's subjects (ANY_SUBJECT). Each subject's lists hold
# more titles than its longest run of episodes, so a show never needs one twice.
SUBJECTS: Final[Mapping[str, Mapping[str, Subject]]] = {
    "Documentary": {
        "wildlife": Subject(
            ("Wild {region}",),
            ("Born Wild", "Night Hunters", "Survivors", "Predator and Prey", "The Great Journey",
             "Into the Interior", "Mountains", "Rivers", "Forests", "Hidden Valleys",
             "Feast and Famine", "The Young Ones", "Birds of Prey", "Edge of the Wild"),
        ),
        "owls": Subject(
            ("Secret Lives of Owls",),
            ("Silent Flight", "The Nest", "First Flight", "Hunting by Ear", "Snowy Owls",
             "Owls in the City", "The Old Barn", "Eyes in the Dark", "Fledglings",
             "Winter Roost", "Pellets and Prey", "Desert Owls", "The Smallest Owl"),
        ),
        "octopuses": Subject(
            ("Secret Lives of Octopuses",),
            ("Eight Arms", "Masters of Disguise", "The Den", "Escape Artists",
             "A Mother's Vigil", "The Reef at Night", "The Giant Pacific", "Ink and Venom",
             "How an Octopus Thinks", "Night Dives", "Tool Users", "The Mimic",
             "Deep-Sea Octopuses"),
        ),
        "street dogs": Subject(
            ("Secret Lives of Street Dogs",),
            ("The Pack", "Market Day", "Night Patrol", "Strays and Saviors", "Puppy Season",
             "The Rescuers", "Territory", "Finding a Home", "Old Timers",
             "Winter on the Streets", "The Shelter", "Street Smarts", "The Vet Clinic"),
        ),
        "ants": Subject(
            ("Secret Lives of Ants",),
            ("The Queen", "Leafcutters", "Army on the March", "Farmers of the Forest",
             "The Supercolony", "Underground Cities", "Raiders", "The Nursery", "Honeypots",
             "Ant Wars", "The Nuptial Flight", "Weaver Ants", "Workers"),
        ),
        "cities": Subject(
            ("Secret Lives of Cities",),
            ("Under the Streets", "Rush Hour", "After Midnight", "Water", "Skylines",
             "The Markets", "Rooftops", "Parks", "The Commute", "Waste", "Power", "Bridges",
             "Neighborhoods"),
        ),
        "ice": Subject(
            ("Secret Lives of Glaciers",),
            ("The Ice Shelf", "Frozen Worlds", "Meltwater", "Calving Season", "Ice Cores",
             "The Retreat", "Crevasses", "The Last Ice Age", "Under the Ice", "Blue Ice",
             "Glacial Lakes", "The Icefall", "Moraines"),
        ),
        "whales": Subject(
            ("Ocean Giants", "Giants of the Deep"),
            ("Blue Whales", "The Humpback Song", "Sperm Whales", "Whale Sharks", "Giant Squid",
             "Orcas", "Manta Rays", "The Long Migration", "Calving Grounds", "Feeding Frenzy",
             "Deep Divers", "The Gray Whale Road", "Leatherbacks"),
        ),
        "engineering": Subject(
            ("Engineering the Impossible", "Engineering Giants", "Engineering Tomorrow"),
            ("The Longest Bridge", "Tunnel Under the Sea", "The Supertall", "The Great Dam",
             "Moving Mountains", "The Tallest Tower", "Floating Cities", "Super Ships",
             "The Stadium Roof", "High-Speed Rail", "Under the River", "Tidal Power",
             "The Airport Island"),
        ),
        "factory": Subject(
            ("On the Factory Floor", "Made by Machine"),
            ("Bread", "Biscuits", "Paint", "Bicycles", "Glass Bottles", "Toothpaste",
             "Chocolate", "Canned Tomatoes", "Potato Chips", "Cardboard Boxes",
             "Washing Machines", "Pencils", "Sneakers", "Crayons"),
        ),
        "museum": Subject(
            ("Inside the Museum",),
            ("The Collection", "Behind the Glass", "Restoration", "The Night Before Opening",
             "The Dinosaur Hall", "The Archive", "A Visiting Exhibition", "The Conservators",
             "Moving the Whale Skeleton", "Lost in the Stores", "The Curators", "Opening Day",
             "Fakes and Forgeries", "School Trips"),
        ),
        "kitchen": Subject(
            ("Inside the Kitchen",),
            ("The Brigade", "Service", "Prep", "The New Menu", "The Critic",
             "Saturday Night Rush", "Pastry", "The Pass", "Family Meal", "Deliveries",
             "Front of House", "Closing Time", "The Head Chef", "Fully Booked"),
        ),
        "hospital": Subject(
            ("Inside the Hospital",),
            ("Night Shift", "The Emergency Room", "Maternity", "Operating Day",
             "Winter Pressures", "The Children's Ward", "Intensive Care", "Porters",
             "The Ambulance Bay", "New Doctors", "Discharge Day", "Recovery",
             "The Blood Bank"),
        ),
        "mint": Subject(
            ("Inside the Mint",),
            ("Striking Coins", "The Engravers", "Metal", "Security", "Counterfeits",
             "A New Coin", "The Vault", "Commemoratives", "The Press Room", "Gold",
             "Old Money", "Quality Control"),
        ),
        "airport": Subject(
            ("Inside the Airport",),
            ("Departures", "Arrivals", "The Baggage Hall", "Security", "The Control Tower",
             "Snow Day", "The Night Shift", "Lost Luggage", "Holiday Rush", "Delays",
             "Ground Crew", "The Runway", "Customs"),
        ),
        "zoo": Subject(
            ("Inside the Zoo",),
            ("Feeding Time", "New Arrivals", "The Vet's Rounds", "Keepers", "Moving Day",
             "The Big Cats", "The Penguin Pool", "Breeding Season", "The Reptile House",
             "Winter Quarters", "Enrichment", "The Escape", "The Elephant House"),
        ),
        "ancient": Subject(
            ("Lost Civilizations",),
            ("The First Cities", "Builders of Stone", "Empires of Bronze",
             "The River Kingdoms", "Written in Clay", "The Collapse", "Trade Routes",
             "Temples and Tombs", "Reading the Ruins", "The Sea Peoples", "Cities Under Sand",
             "Gods and Kings", "The First Farmers"),
        ),
        "medicine": Subject(
            ("Frontier Medicine",),
            ("The Country Doctor", "Bone Setters", "Epidemic", "The First Hospital",
             "Midwives", "Remedies", "House Calls", "The Surgeon's Kit", "Quarantine",
             "Fever Season", "The Traveling Dentist", "Snakebite", "The Apothecary"),
        ),
        "coast": Subject(
            ("Coastlines",),
            ("Cliffs", "Estuaries", "Salt Marshes", "The Tide Line", "Harbors", "Storm Surge",
             "Lighthouses", "Dunes", "Islands", "Fishing Villages", "Eroding Shores",
             "The Coast at Night", "Rock Pools"),
        ),
        "railways": Subject(
            ("The Railway Years",),
            ("The First Line", "Steam", "Navvies", "Crossing the Mountains",
             "The Grand Station", "The Mail Train", "The Golden Age", "Electrification",
             "Branch Lines", "The Last Steam Train", "Railway Towns", "Dining Cars",
             "Signal Boxes"),
        ),
        "forest": Subject(
            ("Seasons of the Forest",),
            ("Spring Stirs", "The Summer Canopy", "Falling Leaves", "Winter Sleep",
             "The Forest Floor", "Old Growth", "Fungi", "After the Fire", "Nesting Season",
             "The Understory", "Rain", "The Clearing", "Roots"),
        ),
        "country": Subject(
            ("Deep Country",),
            ("Lambing Season", "Hay Time", "The Village Shop", "Market Day", "Shepherds",
             "Dry Stone Walls", "The Harvest", "Winter Feed", "The County Fair", "Last Orders",
             "The Blacksmith", "The School Bus", "Sheepdogs"),
        ),
    },
    "Reality": {
        "competition": Subject(
            ("The Great {skill} {contest}",),
            ("Fresh Faces", "The Big Reveal", "Team Challenge", "Against the Clock",
             "Judgment Day", "Back to Basics", "Family Week", "Sink or Swim", "Partners",
             "Mystery Box", "Rivals", "Signature Week", "Showstoppers", "The Masterclass",
             "Pairs Week", "Heritage Week", "Speed Round", "The Gauntlet", "Memory Lane",
             "The Wild Card", "Do or Die", "Blind Judging", "Recreate the Classic",
             "Upcycle Week", "Kids' Week", "Childhood Favorites", "Nothing Goes to Waste",
             "Go Big or Go Home", "Tiny Details", "Opposites", "Celebration Week",
             "The Outdoor Challenge", "Color Week", "Teamwork"),
            ("{who} Goes Home", "{who}'s Comeback", "{who} Takes the Lead", "{who}'s Gamble"),
            ("The Final", "The Grand Final", "Finale", "Finale Night", "Crowning the Champion",
             "The Final Showdown"),
        ),
        "dating": Subject(
            ("Love on the {love}", "First Dates Abroad"),
            ("New Arrivals", "First Impressions", "The Cocktail Party", "Recoupling",
             "Date Night", "Mixed Signals", "The Lie Detector", "Temptation",
             "Second Glances", "Truth or Dare", "Hometowns", "Cold Feet", "Jealousy",
             "The Group Date", "Butterflies", "Love Letters", "Just Friends?",
             "The Ex Arrives", "Sparks Fly", "Slow Dance", "Sunset Dinner", "Mind Games",
             "Family Visits", "Couples Challenge", "Rumors", "All In", "Moving In",
             "Heart to Heart", "Blindfolded", "The Road Trip"),
            ("{who}'s Big Date", "{who} Chooses", "{who} Walks Away", "{who}'s Ex"),
            ("The Final", "Finale", "Finale Night", "The Final Decision",
             "Happily Ever After?", "The Last Night"),
        ),
        "property": Subject(
            ("{place} Flip", "Million Dollar {homes}", "{rescue} Rescue", "Dream Build",
             "Bidding War", "Moving Out"),
            ("The Fixer-Upper", "Over Budget", "Water Damage", "The Farmhouse", "Open House",
             "Demolition Day", "The Split-Level", "The Bungalow", "The Big Reveal",
             "Structural Surprises", "The Kitchen Gamble", "Asking Price", "Curb Appeal",
             "Knock It Down", "Original Features", "Permits and Problems",
             "Down to the Studs", "The Cottage", "The Townhouse", "Sold!", "The Extension",
             "Storm Damage", "The Starter Home", "The Victorian", "Plan B", "Deadline Week",
             "The Open Plan", "Hidden Costs", "Foundation Trouble", "Tight Budget",
             "Corner Lot", "Back on the Market", "Room to Grow", "The Ranch House",
             "Termites", "The Duplex"),
            ("{who}'s Fixer-Upper", "{who}'s Dream Kitchen", "{who} Makes an Offer",
             "{who}'s First Home"),
        ),
    },
    "Lifestyle": {
        "food": Subject(
            ("Weekend Kitchen with {first}", "{first}'s Table", "{place} Eats",
             "The {food_adj} {food_role}", "Out of the Kitchen", "Slow Sundays"),
            ("Sunday Roast", "Five-Ingredient Dinners", "Budget Kitchen", "One-Pan Suppers",
             "Bread Basics", "Summer Salads", "Holiday Baking", "Soup Season", "Pasta Night",
             "Brunch at Home", "Street Food at Home", "Pies and Tarts", "Fish Fridays",
             "The Spice Rack", "Weeknight Curries", "Picnic Food", "Fire Up the Grill",
             "Dinner for Two", "Feeding a Crowd", "Cakes for Beginners", "Pantry Staples",
             "Leftovers Reinvented", "Slow Cooker Suppers", "Comfort Food",
             "Breakfast for Dinner", "Dumplings", "Pickles and Preserves", "Noodles",
             "Tray Bakes", "Sweet Treats", "Farmers' Market", "Roast Chicken",
             "Big Batch Cooking"),
            ("Cooking with {who}", "{who}'s Kitchen", "{who}'s Family Recipe",
             "Dinner at {who}'s"),
        ),
        "home": Subject(
            ("The {home_adj} {home_role}", "Fresh Coat", "Open House", "Flea Market Finds",
             "The Good Fix", "Room by Room"),
            ("The Tiny Balcony", "Paint It Bright", "The Guest Room", "Attic Makeover",
             "Porch Project", "The Hallway", "Bathroom on a Budget", "Kitchen Cabinets",
             "The Home Office", "The Kids' Bedroom", "Shelving", "Wallpaper Weekend",
             "Let There Be Light", "New Floors", "The Rental Refresh", "Storage Solutions",
             "The Mudroom", "Upcycled Furniture", "Color Clash", "The Reading Nook", "Tiles",
             "The Loft", "Curtains and Blinds", "The Front Door", "Open Shelving",
             "The Dining Room", "Small Bathroom, Big Ideas", "The Garage Workshop",
             "Vintage Finds", "The Nursery", "The Fireplace", "Spring Refresh"),
            ("{who}'s Living Room", "{who}'s First Apartment", "{who}'s Bedroom Makeover",
             "Helping {who} Move In"),
        ),
        "garden": Subject(
            ("The {garden_adj} Gardener", "Plot to Plate", "Grow Your Own",
             "The Kitchen Garden"),
            ("Raised Beds", "Sowing Seeds", "The Herb Garden", "Container Gardens", "Compost",
             "Tomatoes", "The Greenhouse", "Fruit Trees", "Bulbs for Spring",
             "Pests and Friends", "Wildflower Meadow", "The Pond", "Pruning", "Autumn Jobs",
             "Winter Gardens", "Climbing Roses", "Potatoes", "Shade Plants",
             "Watering Wisely", "The Allotment", "Pots on the Patio", "Hedges",
             "Saving Seeds", "Berries", "Garden Birds", "Dry Gardens", "Cut Flowers",
             "The Vegetable Patch", "Lawns", "Houseplants", "Harvest Time",
             "Squash and Pumpkins"),
            ("{who}'s Allotment", "{who}'s Garden", "{who}'s Vegetable Patch",
             "Digging In with {who}"),
        ),
    },
}  # fmt: skip

# Titles that fit any subject of their genre: an owl film's and a mint's "Origins".
ANY_SUBJECT: Final[Mapping[str, tuple[str, ...]]] = {
    "Documentary": (
        "Origins", "Up Close", "Changing Times", "Turning Points", "Then and Now",
        "Small Wonders", "The Big Picture", "Against the Odds", "Hidden Worlds", "Out of Sight",
        "Connections", "Secrets Revealed", "The Unexpected", "Legacy", "What Comes Next",
        "A Year in the Life", "Behind the Scenes", "Firsts", "The Long View", "Day and Night",
        "Under Pressure",
    ),
    "Reality": (
        "Under Pressure", "Double Trouble", "The Twist", "Second Chances", "Big Decisions",
        "Highs and Lows", "Surprise!", "Best Laid Plans", "Crunch Time", "All or Nothing",
        "No Turning Back",
    ),
    "Lifestyle": (
        "On a Budget", "Holiday Special", "Summer Special", "Beginners Welcome", "Quick Wins",
        "Viewer Questions", "Back to Basics", "Mistakes to Avoid",
    ),
}  # fmt: skip


def series(fake: Fake, genre: str) -> tuple[str, str]:
    """A series' name that reads as a show of this genre, and its subject (a key of its
    genre's SUBJECTS; "" for a genre whose episodes do not depend on one)."""
    words = SERIES_WORDS.get(genre, SERIES_WORDS["Drama"])
    if genre in SUBJECTS:
        subject = pick(fake, tuple(SUBJECTS[genre]))
        return fill(fake, pick(fake, SUBJECTS[genre][subject].series), words), subject
    templates = SERIES_TEMPLATES.get(genre, SERIES_TEMPLATES["Drama"])
    return fill(fake, pick(fake, templates), words), ""


def series_name(fake: Fake, genre: str) -> str:
    """A series' name that reads as a show of this genre."""
    return series(fake, genre)[0]


# Episode titles: a genre's noun phrases, then templates over the show's own characters and
# towns. "The One Where..." and other parodies of famous shows are left out on purpose.
# (Documentaries, reality and lifestyle shows draw from their subject's: see SUBJECTS.)
EPISODE_PHRASES: Final[Mapping[str, tuple[str, ...]]] = {
    "Drama": (
        "Homecoming", "Fault Lines", "Undertow", "Crossroads", "The Reckoning", "Old Wounds",
        "Safe Harbor", "Smoke and Mirrors", "Loose Ends", "Second Chances", "The Long Night",
        "Ties That Bind", "First Light", "Full Circle", "Thin Ice", "High Water", "The Offer",
        "Truce", "Fallout", "Lost and Found", "The Funeral", "Visiting Hours", "The Will",
        "Harvest Moon", "Night Swimming", "Open House", "Father's Day", "Borrowed Time",
        "Cold Comfort", "Open Secrets", "The Anniversary", "Home Truths", "The Letter",
    ),
    "Crime": (
        "Chain of Custody", "The Informant", "Dead Drop", "Exhibit A", "Motive",
        "Reasonable Doubt", "Cold Trail", "Body of Evidence", "Stakeout", "Paper Trail",
        "The Confession", "Witness Protection", "Ballistics", "Hung Jury", "Loose Ends",
        "The Long Night", "Blind Spots", "Collateral", "Night Shift", "Missing", "Alibi",
        "Trace Evidence", "Probable Cause", "Cross-Examination", "The Lineup", "Cold Storage",
        "False Witness", "Red Handed", "Last Seen", "Search Warrant", "Blood Money",
        "Plea Deal", "Fingerprints", "The Getaway", "Dead Reckoning", "Hostage",
    ),
    "Comedy": (
        "The Dinner Party", "Game Night", "The Yard Sale", "Parent-Teacher Night",
        "The Group Chat", "Date Night", "The Wedding Toast", "Moving Day", "The Thermostat",
        "The Smoke Alarm", "Secret Santa", "Karaoke Night", "The Spare Key",
        "Bring Your Kid to Work Day", "Flu Season", "The Road Test", "Open Mic", "Book Club",
        "The Potluck", "Snow Day", "The Housewarming", "The Baby Shower", "The Parking Spot",
        "The Office Fridge", "The Family Photo", "Costume Party", "The Gym Membership",
        "The Fantasy League", "Leftovers", "The Surprise Party", "Power Outage",
        "The Inspection", "The Escape Room", "The Camping Trip", "Career Day",
    ),
    "Science Fiction": (
        "First Contact", "The Drift", "Quarantine", "Signal to Noise", "Zero Hour", "Airlock",
        "Blackout", "Perihelion", "Ghost Ship", "Redshift", "The Long Dark", "Uplink",
        "Half-Life", "Exodus", "Wake", "Event Horizon Protocol", "Dry Dock", "Terminus",
        "The Colony", "Flashpoint", "Solar Wind", "Hull Breach", "Lagrange Point",
        "Decaying Orbit", "Cold Sleep", "The Relay", "Escape Velocity", "Ion Storm",
        "The Derelict", "Mutiny", "Eclipse", "Landfall", "Zero-G", "Stowaway", "Rendezvous",
        "Aphelion", "The Beacon",
    ),
    "Kids": (
        "Rainy Day", "The Sleepover", "Bubble Trouble", "Snow Fort", "The Lost Tooth",
        "The Big Parade", "Hiccups", "Treasure Map", "Too Many Cupcakes", "The Lost Mitten",
        "The Kite Contest", "Pajama Day", "The Lemonade Stand", "The Big Sneeze",
        "The Missing Sock", "Bath Time", "The New Puppy", "Picnic Day", "Puddle Jumping",
        "Bedtime", "The Class Pet", "Shadow Puppets", "The Birthday Cake", "Helping Hands",
        "The Snowman", "Muddy Boots", "The Talent Show", "Sharing Is Caring", "Windy Day",
        "Sandcastles", "The Lost Balloon", "Garden Helpers",
    ),
}  # fmt: skip

_CHARACTER_EPISODES: Final[Mapping[str, tuple[str, ...]]] = {
    "Drama": (
        "{who}'s Birthday", "{who}'s Wedding", "{who} Moves Out", "{who} Comes Home",
        "{who}'s Secret", "{who}'s Choice", "Finding {who}", "Goodbye, {who}",
    ),
    "Crime": (
        "{who} Takes the Stand", "The Trial of {who}", "{who}'s Alibi", "Finding {who}",
        "{who} Goes Undercover", "{who}'s Last Call",
    ),
    "Comedy": (
        "{who}'s Birthday", "{who} Quits", "{who}'s New Job", "{who} Says Yes",
        "{who} Gets a Dog", "{who}'s Big Date", "{who} Goes Viral",
    ),
    "Science Fiction": (
        "{who}'s Log", "Finding {who}", "{who} Alone", "{who}'s Mission", "{who} Wakes Up",
        "Message from {who}",
    ),
    "Kids": (
        "{who}'s Big Day", "{who}'s Big Idea", "{who} Learns to Swim", "{who} Learns to Whistle",
        "{who}'s Surprise", "{who} Says Sorry", "{who}'s New Friend",
    ),
}  # fmt: skip

_PLACE_EPISODES: Final = (
    "{place}", "Return to {place}", "The Road to {place}", "Leaving {place}", "Welcome to {place}",
)  # fmt: skip


def cast(fake: Fake, genre: str, count: int = 4) -> tuple[str, ...]:
    """A show's characters, by first name: episodes are about them."""
    names: set[str] = set()
    if genre == "Kids":
        draw = functools.partial(pick, fake, _HEROES)
        return tuple(unique(fake, draw, names, spare=lambda: _HEROES) for _ in range(count))
    return tuple(unique(fake, lambda: str(fake.first_name()), names) for _ in range(count))


def episode_title(fake: Fake, genre: str, characters: Sequence[str], subject: str = "") -> str:
    """One episode's title: a phrase of the genre (or of the show's subject), a character's
    event or a place."""
    roll = fake.random.random()
    if genre in SUBJECTS:
        about = SUBJECTS[genre].get(subject)
        if about is None or 0.2 <= roll < 0.35:
            return pick(fake, ANY_SUBJECT[genre])
        if roll < 0.2 and about.people:
            return pick(fake, about.people).format(who=pick(fake, characters))
        return pick(fake, about.episodes)
    if roll < 0.25 and genre in _CHARACTER_EPISODES:
        return pick(fake, _CHARACTER_EPISODES[genre]).format(who=pick(fake, characters))
    if roll < 0.35 and genre in ("Drama", "Crime", "Science Fiction"):
        return fill(fake, pick(fake, _PLACE_EPISODES), {})
    return pick(fake, EPISODE_PHRASES.get(genre, EPISODE_PHRASES["Drama"]))


def episode_titles(genre: str, characters: Sequence[str], subject: str = "") -> list[str]:
    """Every title `episode_title` can give a show, but those naming a town (the locale's)."""
    if genre in SUBJECTS:
        about = SUBJECTS[genre].get(subject)
        own = [] if about is None else [*about.episodes, *_about(about.people, characters)]
        return [*own, *ANY_SUBJECT[genre]]
    phrases = EPISODE_PHRASES.get(genre, EPISODE_PHRASES["Drama"])
    return [*phrases, *_about(_CHARACTER_EPISODES.get(genre, ()), characters)]


def _about(templates: Sequence[str], characters: Sequence[str]) -> list[str]:
    return [template.format(who=who) for template in templates for who in characters]


def season_titles(
    fake: Fake,
    genre: str,
    characters: Sequence[str],
    *,
    season: int,
    count: int,
    taken: set[str],
    subject: str = "",
) -> list[str]:
    """A season's episode titles, none used before in the show (`taken`).

    Some shows call their first episode "Pilot"; now and then a story runs over two episodes
    ("Homecoming: Part One", "...: Part Two"); a competition's season ends with its final.
    Titles are drawn from the genre's lists (and the show's `subject`'s); when a long-running
    show has drawn them all, `unique` takes one still free of all it could draw."""
    titles: list[str] = []
    last_start = count - 1  # a two-parter's first part: its second fits in the season
    about = SUBJECTS.get(genre, {}).get(subject)
    finals = about.finals if about is not None else ()

    def draw() -> str:
        return episode_title(fake, genre, characters, subject)

    def spare() -> list[str]:
        return episode_titles(genre, characters, subject)

    while len(titles) < count:
        number = len(titles) + 1
        if season == 1 and number == 1 and genre not in _NO_PILOTS and chance(fake, 0.4):
            taken.add("Pilot")
            titles.append("Pilot")
        elif finals and number == count > 1:
            titles.append(unique(fake, lambda: pick(fake, finals), taken, spare=lambda: finals))
        elif number <= last_start and genre in _TWO_PARTERS and chance(fake, 0.08):
            base = unique(fake, draw, taken, spare=spare)
            parts = [f"{base}: Part One", f"{base}: Part Two"]
            taken.update(parts)
            titles += parts
        else:
            titles.append(unique(fake, draw, taken, spare=spare))
    return titles


_NO_PILOTS: Final = ("Reality", "Documentary", "Kids", "Lifestyle")
# Genres that tell a story over two episodes; competitions and cookery do not.
_TWO_PARTERS: Final = ("Drama", "Crime", "Science Fiction", "Comedy", "Documentary")


# --- chapters -----------------------------------------------------------------------------------

_SCENES: Final[Mapping[str, tuple[str, ...]]] = {
    "": (
        "The Arrival", "An Unexpected Visitor", "First Impressions", "The Letter", "The Plan",
        "A Long Night", "The Truth Comes Out", "Turning Point", "Showdown", "Aftermath",
        "Homeward", "The Offer", "Second Thoughts", "The Storm", "Old Friends", "Breaking Point",
        "The Chase", "Goodbyes", "A New Day", "The Road North", "Face to Face", "The Reveal",
        "Across Town", "Under Pressure", "The Last Chance",
    ),
    "Thriller": ("The Drop", "Surveillance", "Double Cross", "The Safe House", "Exposed"),
    "Horror": ("The Cellar Door", "Footsteps", "Lights Out", "The Ritual", "Dawn"),
    "Romance": ("The First Date", "Missed Connections", "The Kiss", "The Proposal"),
    "Animation": ("The Big Race", "Lost in the Woods", "Making Friends", "Home Again"),
    "Family": ("The Big Race", "Lost in the Woods", "Making Friends", "Home Again"),
    "Action": ("The Heist", "Rooftop Chase", "Ambush", "The Escape"),
    "Science Fiction": ("Launch", "First Contact", "Cryosleep", "The Anomaly"),
    "Comedy": ("The Mix-Up", "The Toast", "Wrong House", "The Getaway Car"),
    "Drama": ("The Funeral", "Old Letters", "The Hospital", "Reconciliation"),
}  # fmt: skip
_CHARACTER_SCENES: Final = ("{who} Arrives", "{who}'s Decision", "Meeting {who}")
# A documentary's chapters follow its inquiry, not characters: how it began, the work in the
# field, what it means now. The first is drawn from `opening`, the last from `closing`.
DOCUMENTARY_CHAPTERS: Final[Mapping[str, tuple[str, ...]]] = {
    "opening": ("Origins", "Where It Began", "First Steps", "The Source", "Setting Out",
                "The Question"),
    "body": ("The Expedition", "In the Field", "Counting the Cost", "The Evidence", "Voices",
             "A Changing World", "The Long Wait", "Under Threat", "The Work", "The Archive",
             "Against the Odds", "The Discovery", "Close to Home", "The Community",
             "By the Numbers", "Witnesses", "Turning the Tide", "Far from Home", "Up Close",
             "Day by Day", "Breakthrough", "The Experts"),
    "closing": ("What Comes Next", "The Road Ahead", "Looking Back", "Legacy",
                "Lessons Learned", "Tomorrow"),
}  # fmt: skip

_SEGMENTS: Final[Mapping[str, tuple[str, ...]]] = {
    # a podcast's segments, in the order a show runs them
    "podcast": ("Intro", "Headlines", "Main Interview", "Listener Mail", "Lightning Round"),
    # a video creator's parts, likewise
    "clip": ("Intro", "The Setup", "First Attempt", "Second Attempt", "Results"),
}


def chapter_names(fake: Fake, kind: str, genre: str, count: int) -> list[str]:
    """Names for `count` chapters of one title, in order. Never a bare "Chapter N".

    Episodes run as acts between a cold open and a tag; films as scenes between an opening
    and the end credits; podcasts and clips as the segments their makers name."""
    if count <= 0:
        return []
    if kind == "episode":
        return _acts(fake, count)
    if kind in _SEGMENTS:
        segments = _SEGMENTS[kind]
        closing = "Outro"
        if count == 1:
            return [segments[0]]
        body = [*segments[: count - 1]]
        body += [f"Part {index}" for index in range(len(body) + 1, count)]
        return [*body, closing]
    return _scenes(fake, genre, count)


def _acts(fake: Fake, count: int) -> list[str]:
    if count < 3:
        return [f"Act {number_word(index)}" for index in range(1, count + 1)]
    opening = "Cold Open" if chance(fake, 0.7) else "Teaser"
    acts = [f"Act {number_word(index)}" for index in range(1, count - 1)]
    return [opening, *acts, pick(fake, ("Tag", "Closing Credits"))]


def _scenes(fake: Fake, genre: str, count: int) -> list[str]:
    if count == 1:
        return ["Feature"]
    if count == 2:
        return ["Opening", "End Credits"]
    if genre == "Documentary":
        middle = _documentary_chapters(fake, count - 2)
    else:
        pool = [*_SCENES[""], *_SCENES.get(genre, ())]
        fake.random.shuffle(pool)
        who = str(fake.first_name())
        scene = pick(fake, _CHARACTER_SCENES).format(who=who)
        pool.insert(fake.random.randrange(len(pool) // 2), scene)
        middle = pool[: count - 2]
    if chance(fake, 0.3):
        # DVD style: the scenes numbered as parts ("Part 2: The Plan")
        middle = [f"Part {index}: {name}" for index, name in enumerate(middle, start=2)]
    # More chapters than scenes (a profile may ask for hundreds): the rest are numbered parts.
    middle += [f"Part {index}" for index in range(len(middle) + 2, count)]
    return [pick(fake, ("Opening", "Main Titles", "Opening Credits")), *middle, "End Credits"]


def _documentary_chapters(fake: Fake, count: int) -> list[str]:
    """Up to `count` chapters of a documentary, in the order of its inquiry."""
    body = list(DOCUMENTARY_CHAPTERS["body"])
    fake.random.shuffle(body)
    if count < 2:
        return body[:count]
    opening = pick(fake, DOCUMENTARY_CHAPTERS["opening"])
    return [opening, *body[: count - 2], pick(fake, DOCUMENTARY_CHAPTERS["closing"])]


# --- live news ----------------------------------------------------------------------------------

_NEWS_STEMS: Final = (
    "Meridian", "Northstar", "Keystone", "Beacon", "Compass", "Sentinel", "Courier", "Lodestar",
    "Signal", "Frontline", "Clearview", "Bulletin",
)  # fmt: skip
_REGIONS: Final = (
    "Tri-County", "Lakeshore", "Valley", "Coastal", "Midstate", "Capital Region", "Heartland",
    "Gulf Coast", "Piedmont", "High Plains", "Metro",
)  # fmt: skip
_CHANNEL_NUMBERS: Final = ("2", "4", "5", "7", "8", "9", "11", "12", "13")


def news_channel(fake: Fake, genre: str) -> tuple[str, str, str]:
    """A news channel: its name, the brand its programmes carry, and its home town ("" for a
    national channel). Business, weather and politics channels say so in their names."""
    stem = pick(fake, _NEWS_STEMS)
    if genre == "Business News":
        return (*pick(fake, ((f"{stem} Business News", stem), (f"{stem} Markets", stem))), "")
    if genre == "Weather":
        region = pick(fake, _REGIONS)
        return f"{region} Weather Now", f"{region} Weather", ""
    if genre == "Politics":
        return (*pick(fake, ((f"{stem} Politics", stem), (f"{stem} Politics Now", stem))), "")
    town, number = place(fake), pick(fake, _CHANNEL_NUMBERS)
    region = pick(fake, _REGIONS)
    channels = (
        (f"{town} News {number}", f"News {number}", town),
        (f"{region} {number} News", f"{region} {number}", town),
        (f"{town} Channel {number} News", f"Channel {number}", town),
        (f"{town} 24 News", f"{town} 24", town),
        (f"{stem} News", stem, ""),
        (f"{stem} News 24", stem, ""),
    )
    return pick(fake, channels)


def news_station(brand: str, town: str) -> str:
    """What makes two news channels one station to a reader: a national brand ("Meridian
    News", "Meridian News 24" and "Meridian Business News" are one), or a town's channel number
    ("Ashford News 4" and "Tri-County 4 News" from Ashford are one)."""
    if not town:
        return brand
    return f"{town} {''.join(c for c in brand if c.isdigit())}"


# Programme names by slot of a news day. Every morning name says morning and every 18:30 name
# says evening: a reader checks a schedule by exactly those words.
_NEWS_SHOWS: Final[Mapping[str, tuple[str, ...]]] = {
    "early": ("Early Start", "First Edition", "The Early Report", "Before Dawn",
              "{brand} Early Edition"),
    "dawn": ("Daybreak", "Sunrise {town}", "{brand} Daybreak", "Sunrise"),
    "morning": ("Good Morning {town}", "{town} This Morning", "{brand} This Morning",
                "The Morning Desk", "Breakfast with {first} and {first2}", "{brand} Morning"),
    "daytime": ("The Daily Brief", "Around the Nation", "{brand} Live", "The Briefing",
                "Live Desk", "News Now"),
    "midday": ("Midday News", "News at Noon", "The Noon Report", "{brand} at Noon",
               "Midday Edition"),
    "afternoon": ("The Afternoon Report", "Afternoon Edition", "The Rundown",
                  "Around the Country", "{brand} Live", "Live Desk", "News Now"),
    "five": ("{brand} at Five", "The Five O'Clock Report", "News at Five"),
    "six": ("{brand} at Six", "News at Six", "{town} News at Six", "Six O'Clock News"),
    "evening": ("{brand} Evening News", "The Evening Report", "Evening Edition",
                "Evening Headlines", "World Evening News"),
    "seven": ("Headlines Tonight", "The 7 O'Clock Report", "In Focus", "Nightly Roundup"),
    "prime": ("The Briefing Room", "Face to Face with {first} {last}", "{last} Tonight",
              "The Long View", "Crossroads with {first} {last}", "Behind the Headlines",
              "In Depth", "Across the Aisle", "Open Question", "Fact Check", "Town Hall",
              "The Inside Story", "First Person"),
    "late": ("{brand} at Eleven", "News at Eleven", "The Late Report", "Eleven O'Clock News"),
    "night": ("The Night Desk", "After Hours", "Tomorrow's Headlines", "Late Briefing"),
    "overnight": ("World Overnight", "Overnight News", "The Overnight Report"),
}  # fmt: skip

# What a business, weather or politics channel airs in its own daytime and prime time.
_GENRE_SHOWS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "Business News": {
        "morning": ("Morning Markets", "{brand} Morning Markets", "Markets at Daybreak"),
        "daytime": ("The Opening Trade", "Trading Floor", "Market Open", "Deal Flow"),
        "afternoon": ("Market Close", "The Closing Trade", "Earnings Desk", "Main Street Money"),
        "prime": ("The Money Hour", "Founders", "Boardroom", "The Balance Sheet",
                  "Portfolio with {first} {last}"),
    },
    "Weather": {
        "morning": ("Morning Forecast", "Sunrise Forecast", "Your Morning Weather"),
        "daytime": ("Weather Center Live", "Storm Desk", "Radar Watch", "The Forecast Hour"),
        "afternoon": ("Commuter Forecast", "Weather Center Live", "Storm Desk"),
        "prime": ("Storm Chasers", "Extreme Weather", "The Weekend Outlook", "Climate Desk"),
    },
    "Politics": {
        "morning": ("Morning Briefing", "{brand} Morning Briefing", "Capitol Morning"),
        "daytime": ("Capitol Report", "Inside the Statehouse", "Campaign Trail",
                    "The Hearing Room"),
        "afternoon": ("Floor Debate", "Campaign Trail", "Committee Watch"),
        "prime": ("Across the Aisle", "The Ballot", "Town Hall", "The Spin Room",
                  "Face to Face with {first} {last}"),
    },
}  # fmt: skip

# A news channel's day, in local minutes: (start, length, slot). Contiguous from 00:00 to 24:00.
# The overnight hours replay prime time; 18:00 is the local news, 18:30 the evening news.
_NEWS_DAY: Final = (
    (0, 60, "replay"), (60, 60, "replay"), (120, 60, "replay"), (180, 60, "overnight"),
    (240, 60, "replay"), (300, 60, "early"), (360, 60, "dawn"), (420, 120, "morning"),
    (540, 60, "daytime"), (600, 120, "daytime"), (720, 60, "midday"), (780, 120, "afternoon"),
    (900, 60, "afternoon"), (960, 60, "afternoon"), (1020, 60, "five"), (1080, 30, "six"),
    (1110, 30, "evening"), (1140, 60, "seven"), (1200, 60, "prime"), (1260, 60, "prime"),
    (1320, 60, "prime"), (1380, 30, "late"), (1410, 30, "night"),
)  # fmt: skip


def news_schedule(fake: Fake, genre: str, brand: str, town: str) -> list[tuple[int, int, str]]:
    """A news channel's local day as (start minute, minutes, programme)."""
    own = _GENRE_SHOWS.get(genre, {})
    fixed = {"brand": brand, "town": town or brand}
    drawn: dict[str, list[str]] = {}
    formats: dict[str, set[str]] = {}

    def show(slot: str) -> str:
        # The hours of one slot kind (daytime, afternoon, prime time) air different programmes,
        # of different formats too: not "Face to Face with" two hosts in one evening.
        templates = own.get(slot, _NEWS_SHOWS[slot])
        if town == "":
            templates = tuple(name for name in templates if "{town}" not in name) or templates
        used = formats.setdefault(slot, set())
        template = unique(fake, lambda: pick(fake, templates), used, 20, lambda: templates)
        name = fill(fake, template, {}, **fixed)
        drawn.setdefault(slot, []).append(name)
        return name

    day = list(_NEWS_DAY)
    if chance(fake, 0.5):  # some channels run one three-hour morning show from 06:00
        day = [*_NEWS_DAY[:6], (360, 180, "morning"), *_NEWS_DAY[8:]]
    schedule: list[tuple[int, int, str]] = []
    for start, minutes, slot in day:
        if slot == "replay":
            schedule.append((start, minutes, slot))  # filled in once prime time is known
        else:
            schedule.append((start, minutes, show(slot)))
    replays = [*drawn["prime"], drawn["seven"][0]]
    replayed = iter(replays)
    return [
        (start, minutes, f"{next(replayed)} (Encore)" if name == "replay" else name)
        for start, minutes, name in schedule
    ]


# --- linear channels ----------------------------------------------------------------------------

_CHANNEL_WORDS: Final[Mapping[str, tuple[str, ...]]] = {
    "Drama": ("Drama", "Stories", "Showcase"),
    "Comedy": ("Comedy", "Laughs", "Comedy Club"),
    "Crime": ("Crime", "Mystery", "Crime & Mystery"),
    "Reality": ("Reality", "Real Life"),
    "Documentary": ("Docs", "Knowledge", "Explore"),
    "Science Fiction": ("Sci-Fi", "Universe", "Beyond"),
    "Kids": ("Kids", "Junior", "Tots"),
    "Lifestyle": ("Living", "Home", "Kitchen & Home"),
}
# The films a genre's channel shows in prime time (None: that channel airs no films).
_CHANNEL_FILMS: Final[Mapping[str, str | None]] = {
    "Drama": "Drama", "Comedy": "Comedy", "Crime": "Thriller", "Reality": None,
    "Documentary": "Documentary", "Science Fiction": "Science Fiction", "Kids": "Family",
    "Lifestyle": None,
}  # fmt: skip


def linear_channel(fake: Fake, genre: str, stem: str = "") -> str:
    """A linear channel named for what it airs ("Redwood Crime & Mystery", "Bluebird Kids")."""
    stem = stem or pick(fake, _NETWORK_STEMS)
    return f"{stem} {pick(fake, _CHANNEL_WORDS.get(genre, ('TV',)))}"


def linear_schedule(fake: Fake, genre: str) -> list[tuple[int, int, str]]:
    """A linear channel's local day: its genre's series in blocks, a film in prime time.

    Half-hour genres (comedy, kids, lifestyle) air two episodes back to back, as channels do;
    hour-long genres one at a time. Films carry their year, as listings print them."""
    half_hour = genre in ("Comedy", "Kids", "Lifestyle")
    slot = 30 if half_hour else 60
    taken: set[str] = set()
    lineup = [unique(fake, lambda: series_name(fake, genre), taken) for _ in range(8)]
    film_genre = _CHANNEL_FILMS.get(genre)
    schedule: list[tuple[int, int, str]] = []
    minute = 0
    while minute < 1440:
        if film_genre is not None and minute == 20 * 60:
            title = movie_title(fake, film_genre)
            schedule.append((minute, 120, f"{title} ({fake.random.randint(1978, 2024)})"))
            minute += 120
            continue
        # Never the same show in two blocks in a row: a block is already its run of episodes.
        show = pick(fake, [name for name in lineup if not schedule or name != schedule[-1][2]])
        episodes = 2 if half_hour else pick(fake, (1, 1, 2))
        if minute < 20 * 60 < minute + episodes * slot or minute + episodes * slot > 1440:
            episodes = 1  # never run over the film or midnight
        for _ in range(episodes):
            schedule.append((minute, slot, show))
            minute += slot
    return schedule


# --- sports -------------------------------------------------------------------------------------

_LEAGUES: Final[Mapping[str, tuple[str, ...]]] = {
    "Football": ("Continental Football League", "United Football Conference"),
    "Basketball": ("Premier Basketball League", "Continental Hoops Association"),
    "Ice Hockey": ("Frontier Hockey League", "North Country Hockey Association"),
    "Baseball": ("Heartland Baseball League", "Coastal Baseball Association"),
    "Soccer": ("Premier Soccer League", "National Soccer Union"),
    "Rugby": ("Union Rugby Championship", "Coastal Rugby League"),
}
_MASCOTS: Final = (
    "Mariners", "Foxes", "Comets", "Wolves", "Herons", "Pilots", "Miners", "Lumberjacks",
    "Stallions", "Hawks", "Otters", "Kestrels", "Voyagers", "Tritons", "Sentinels", "Cyclones",
    "Thunderbirds", "Coyotes", "Grizzlies", "Badgers", "Mustangs", "Owls", "Pelicans", "Bison",
    "Ironmen", "Rockets", "Admirals", "Lynx", "Gulls", "Harriers", "Pioneers", "Raptors",
)  # fmt: skip
# What a broadcast calls the parts of a game, by sport.
_PERIODS: Final[Mapping[str, tuple[str, int]]] = {
    "Football": ("Quarter", 4), "Basketball": ("Quarter", 4), "Ice Hockey": ("Period", 3),
    "Baseball": ("Inning", 9), "Soccer": ("Half", 2), "Rugby": ("Half", 2),
}  # fmt: skip


def league(fake: Fake, sport: str) -> str:
    return pick(fake, _LEAGUES.get(sport, (f"National {sport} League",)))


def team_mascots(fake: Fake, count: int) -> list[tuple[str, str]]:
    """`count` teams of one league, as (town, plural mascot): no town or mascot twice."""
    towns: set[str] = set()
    mascots: set[str] = set()
    return [
        (
            unique(fake, lambda: place(fake), towns),
            unique(fake, lambda: pick(fake, _MASCOTS), mascots),
        )
        for _ in range(count)
    ]


def periods(sport: str) -> tuple[str, ...]:
    """The game's parts as a broadcast names them: "1st Quarter", "2nd Half", "7th Inning"."""
    unit, count = _PERIODS.get(sport, ("Period", 2))
    return tuple(f"{ordinal(number)} {unit}" for number in range(1, count + 1))


_SPORTS_STEMS: Final = (
    "Arena", "Fieldhouse", "Playmaker", "Grandstand", "Overtime", "Sideline", "Touchline",
    "Matchday",
)  # fmt: skip


def sports_network(fake: Fake, stem: str = "") -> str:
    stem = stem or pick(fake, _SPORTS_STEMS)
    return pick(fake, (f"{stem} Sports", f"{stem} Sports Network", f"{stem} Sports Live"))


def sports_networks(fake: Fake, count: int) -> list[str]:
    """A catalogue's sports networks, one per stem: not "Overtime Sports" beside "Overtime
    Sports Network"."""
    stems = network_stems(fake, min(count, len(_SPORTS_STEMS)), _SPORTS_STEMS)
    return [sports_network(fake, stem) for stem in stems]


# --- user-generated clips -----------------------------------------------------------------------

CLIP_TEMPLATES: Final[Mapping[str, tuple[str, ...]]] = {
    "Food": (
        "I tried making {make} for {days} days", "{n} {meals} under ${price}",
        "Trying every {tasting} at {store}", "My grandma's {dish} recipe (finally!)",
        "The easiest {bake} you'll ever make", "What I eat in a day as a {role}",
        "Testing viral {viral} hacks", "{dish_cap} three ways",
    ),
    "Travel": (
        "Top {n} hidden beaches in {country}", "{span} in {city} on a budget",
        "How I packed for {weeks} in a carry-on", "Night train from {train} to {train2}",
        "What ${hundred} gets you in {city}", "First time in {city} (honest review)",
        "Solo hiking the {trail}", "{country} road trip, day {day}",
    ),
    "Pets": (
        "Cat vs cucumber (again)", "My dog hears the word '{word}'",
        "{pet} the {breed} meets a {baby}", "Rescue {young}'s first {first_time}",
        "Teaching my {bird} to {trick}", "{pet} refuses to get off the {furniture}",
        "Our foster kittens, week {week}", "Things my {breed} does that make no sense",
    ),
    "Gaming": (
        "{game} speedrun attempt #{attempt}", "I played {game} on hardcore for 100 days",
        "Ranking every boss in {game}", "This glitch broke my save file",
        "Beating {game} without taking damage", "{game}: the ending nobody talks about",
        "Building a {build} in {game}", "Is {game} still worth it in {year}?",
    ),
    "Comedy": (
        "When your {relative} finds your {old}", "POV: {pov}", "Things my {housemate} says",
        "Trying to assemble flat-pack furniture without instructions", "Every {group} ever",
        "If {if_thing} had a customer service line", "Explaining {explain} to my {relative}",
    ),
    "How-to": (
        "How to {fix} in {minutes} minutes", "Beginner's guide to {hobby}",
        "Stop doing this when you {task}", "{n} knots every {who} should know",
        "{hobby_cap} for absolute beginners, part {part}",
        "Fixing a {broken} with things you already have",
        "The only {tool} tutorial you'll ever need",
    ),
    "Music": (
        "{style} cover in my {room}", "First time playing {instrument} in public",
        "Writing a song in one hour", "Busking in {city} with my {small}",
        "Live at the open mic, {month} {year}", "Learning {instrument} in 30 days: day {day}",
        "Our band's first gig (full set)",
    ),
}  # fmt: skip

CLIP_WORDS: Final[Words] = {
    "make": ("sourdough", "croissants", "ramen from scratch", "fresh pasta", "bagels", "kimchi",
             "hot sauce", "pizza dough"),
    "days": ("7", "14", "30", "100"),
    "n": ("5", "7", "10", "12"),
    "meals": ("meal prep ideas", "lunches", "dinners", "breakfasts"),
    "price": ("5", "10", "20"),
    "tasting": ("instant noodle flavor", "frozen pizza", "hot sauce", "potato chip flavor"),
    "store": ("my local market", "the corner store", "the airport", "a gas station"),
    "dish": ("lasagna", "apple pie", "chicken soup", "meatballs", "dumplings"),
    "dish_cap": ("Lasagna", "Apple pie", "Chicken soup", "Meatballs", "Dumplings", "Eggs"),
    "bake": ("banana bread", "focaccia", "cinnamon rolls", "brownies"),
    "role": ("night shift nurse", "college student", "marathon runner", "new dad", "line cook"),
    "viral": ("air fryer", "pasta", "egg", "microwave"),
    "country": ("Portugal", "Greece", "Croatia", "Vietnam", "Mexico", "Thailand", "Sicily",
                "Costa Rica"),
    "span": ("48 hours", "3 days", "One week", "A weekend"),
    "city": ("Lisbon", "Hanoi", "Mexico City", "Istanbul", "Kyoto", "Marrakech", "Budapest",
             "Seoul", "Buenos Aires", "Cape Town", "Tbilisi", "Porto"),
    "train": ("Vienna", "Venice", "Munich", "Zurich", "Prague", "Budapest", "Paris", "Berlin",
              "Amsterdam", "Kraków"),
    "weeks": ("two weeks", "a month", "10 days"),
    "hundred": ("50", "100", "200"),
    "trail": ("West Highland Way", "Camino de Santiago", "Tour du Mont Blanc",
              "Laugavegur Trail"),
    "day": ("1", "2", "3", "4", "5", "6", "8", "11", "12"),
    "word": ("walk", "bath", "vet", "treat", "park"),
    "pet": ("Biscuit", "Mochi", "Pickles", "Luna", "Toast", "Waffles", "Nacho", "Olive",
            "Chewie", "Pepper"),
    "breed": ("golden retriever", "corgi", "husky", "beagle", "greyhound", "dachshund"),
    "baby": ("kitten", "duckling", "baby goat", "hedgehog"),
    "young": ("puppy", "kitten"),
    "first_time": ("snow", "beach day", "bath", "car ride"),
    "bird": ("parrot", "cockatiel"),
    "trick": ("whistle", "say hello", "dance"),
    "furniture": ("couch", "bed", "dishwasher door"),
    "week": ("1", "2", "3", "4", "6"),
    "game": ("Skyward Realms", "Iron Tide", "Dungeon Hearth", "Starward Drift", "Ashen Vale",
             "Pixel Farmstead", "Neon Circuit", "Frostbound", "Tiny Kingdoms"),
    "attempt": ("12", "37", "58", "104", "211"),
    "build": ("working calculator", "castle", "floating city", "train network"),
    "year": ("2024", "2025"),
    "relative": ("mom", "dad", "grandma", "little brother"),
    "old": ("old diary", "school report cards", "baby photos", "high school poetry"),
    "pov": ("you're the new intern", "it's your first day at the gym",
            "your group project partner disappears", "you forgot to mute on a call"),
    "housemate": ("roommate", "toddler", "grandpa", "boss"),
    "group": ("group chat", "family road trip", "team meeting", "wedding speech"),
    "if_thing": ("cats", "the weather", "houseplants"),
    "explain": ("memes", "my job", "podcasts", "the group chat"),
    "fix": ("fix a leaky faucet", "replace a bike chain", "unclog a drain", "patch drywall",
            "sharpen a kitchen knife", "change a car tire"),
    "minutes": ("5", "10", "15"),
    "hobby": ("knitting", "watercolor", "woodworking", "bouldering", "film photography"),
    "hobby_cap": ("Knitting", "Watercolor", "Woodworking", "Bouldering", "Film photography"),
    "task": ("paint a room", "sharpen knives", "mow the lawn", "wash your car"),
    "who": ("camper", "sailor", "climber"),
    "part": ("1", "2", "3", "4"),
    "broken": ("squeaky door", "wobbly table", "stuck zipper"),
    "tool": ("spreadsheet", "sewing machine", "cordless drill"),
    "style": ("Acoustic", "Lo-fi", "A cappella", "Piano", "Ukulele"),
    "room": ("kitchen", "car", "bathroom (great echo)", "garage"),
    "instrument": ("the cello", "the drums", "the violin", "the bagpipes"),
    "small": ("ukulele", "accordion", "trumpet", "harmonica"),
    "month": ("March", "April", "June", "September", "October", "November"),
}  # fmt: skip


def clip_title(fake: Fake, genre: str) -> str:
    """A user-generated video's title, as uploaders write them (some all in lower case)."""
    title = fill(fake, pick(fake, CLIP_TEMPLATES.get(genre, CLIP_TEMPLATES["Comedy"])), CLIP_WORDS)
    if chance(fake, 0.12):
        return title.lower()  # real uploads often skip capitals: left in on purpose
    return title


_HANDLE_SUFFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    "Food": ("cooks", "bakes", "eats", "inthekitchen"),
    "Travel": ("travels", "abroad", "wanders", "onthego"),
    "Pets": ("andthedog", "pets", "andcats"),
    "Gaming": ("plays", "gg", "_live", "games"),
    "How-to": ("fixesthings", "diy", "builds", "makes"),
    "Music": ("music", "sings", "plays", "beats"),
    "Comedy": ("lol", "irl", "comedy", "jokes"),
}
_HANDLE_ADJECTIVES: Final = (
    "Wandering", "Hungry", "Rusty", "Sleepy", "Lazy", "Busy", "Tiny", "Curious", "Salty", "Cozy",
)  # fmt: skip
_HANDLE_NOUNS: Final = (
    "Fork", "Nomad", "Wrench", "Corgi", "Pixel", "Kettle", "Compass", "Banjo", "Sprout", "Otter",
)  # fmt: skip


def uploader(fake: Fake, genre: str) -> str:
    """A creator's handle: "miacooks", "dan_okafor", "TheHungryKettle", "rosa.diaz92"."""
    first = _ascii(str(fake.first_name())).lower()
    last = _ascii(str(fake.last_name())).lower().replace(" ", "")
    roll = fake.random.random()
    if not first or roll < 0.25:
        return f"The{pick(fake, _HANDLE_ADJECTIVES)}{pick(fake, _HANDLE_NOUNS)}"
    if roll < 0.55:
        return first + pick(fake, _HANDLE_SUFFIXES.get(genre, ("tv",)))
    if roll < 0.75 and last:
        return f"{first}_{last}"
    return f"{first}.{last or 'tv'}{fake.random.randint(1, 99)}"


def _ascii(text: str) -> str:
    # Handles are ASCII on most platforms: "José" signs up as "jose".
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -"))


# --- podcasts -----------------------------------------------------------------------------------

PODCAST_SHOWS: Final[Mapping[str, tuple[str, ...]]] = {
    "True Crime": (
        "{place} Unsolved", "The Vanishing of {first} {last}", "Small Town Secrets",
        "Evidence Room", "Cold Files", "The {place} Tapes", "Dead Air", "Murder on {street}",
        "Beyond Reasonable Doubt",
    ),
    "Business": (
        "Founders' Hour", "Margin Notes", "Side Hustle Diaries", "Supply and Demand",
        "The Quarterly", "Small Print", "Cash Flow", "Balance Sheet", "Made It Work",
        "{host} Means Business",
    ),
    "Technology": (
        "Bits and Bytes", "Patch Notes", "Signal Boost", "Latency", "The Stack", "Open Tabs",
        "Beta Testers", "Dark Mode", "Plugged In with {host}",
    ),
    "History": (
        "Footnotes of History", "The Long Ago", "Empires and Ashes", "Forgotten Fronts",
        "Old Maps", "History After Hours", "The Archive Room", "Lost Letters", "Time Capsule",
    ),
    "Comedy": (
        "{host} and {cohost} Have Questions", "Unsolicited Advice", "Bad Ideas Club",
        "Second Opinions", "We Should Talk", "Overthought", "Snack Break", "No Notes",
        "Group Therapy",
    ),
    "Health": (
        "The Well Hour", "Sleep Better", "Run Club Radio", "Mind Over Mileage", "Gut Feelings",
        "Strong at Any Age", "The Recovery Room", "Slow Down with {host}",
    ),
}  # fmt: skip

PODCAST_TOPICS: Final[Mapping[str, tuple[str, ...]]] = {
    "True Crime": (
        "The Night Shift Disappearance", "The Lakeside Letters", "What the Neighbors Saw",
        "The {place} Poisonings", "The Last Phone Call", "A Knock at Midnight",
        "The Second Suspect", "The Missing Ledger", "Who Was {first} {last}?", "The Verdict",
        "The Open Window", "The Hitchhiker", "The Burned Diary", "Silence in {place}",
        "The Stolen Paintings", "The Ferry Passenger", "A Body in the Reservoir",
        "The Motel Ledger", "The Wrong Man", "Footprints in the Snow", "The Anonymous Tip",
        "The Locked Room", "The Disappearing Groom", "The Pawnshop Ring", "Twenty Years Cold",
        "The Babysitter's Story", "The Confession Tape", "Vanished from {street}",
        "The Night Bus", "An Unsigned Letter",
    ),
    "Business": (
        "Why Supply Chains Still Break", "Pricing Power", "How a Bakery Became a Brand",
        "The Four-Day Week, One Year Later", "Raising Money in a Down Market",
        "What Makes a Good Manager", "The Economics of Coffee", "Inside a Family Business",
        "Franchise or Go Solo?", "Selling to Big Retailers", "When to Fire a Client",
        "The Subscription Trap", "Why Shops Are Getting Smaller", "Negotiating Your First Lease",
        "The Hidden Cost of Free Shipping", "Hiring Your First Employee",
        "What Happens in a Recession", "Building a Brand on a Budget", "Why Startups Fail",
        "Selling Your Company", "The Gig Economy, Explained", "Working with Family",
        "Exporting for Beginners", "The Art of the Pitch", "When to Raise Prices",
        "Loyalty Programs That Work",
    ),
    "Technology": (
        "Is the Password Dead?", "Inside a Chip Factory", "Open Source Burnout",
        "Your Phone Knows Where You Parked", "The Right to Repair", "Batteries, Explained",
        "Why Software Gets Slower", "A Week Without Notifications", "Satellites Overhead",
        "How Maps Get Made", "The Cloud Is Someone Else's Computer", "Inside a Data Center",
        "Why Your Printer Hates You", "Deepfakes and Trust", "How Spam Filters Work",
        "The Last Landline", "Smart Homes, Dumb Problems", "Who Owns Your Data?",
        "Undersea Cables", "The Chip Shortage", "Robots in the Warehouse",
        "Why Updates Break Things", "Electric Cars, One Year In", "Fixing Old Laptops",
        "How Search Engines Rank", "Space Junk",
    ),
    "History": (
        "The Year Without a Summer", "Lighthouse Keepers", "The Great Tea Shortage",
        "Rivers That Built Empires", "A Short History of Salt", "The Canal Builders",
        "Letters from the Front", "The Forgotten Expedition", "How Clocks Changed Work",
        "The Last Days of the Telegraph", "The Plague Doctors", "The Code Breakers",
        "The Great Stink", "The Spice Routes", "The Bridge That Fell", "Ice Harvesters",
        "The Age of Sail", "The Mapmakers' Mistake", "Bread Riots", "The First Census",
        "Smugglers' Coves", "The Orphan Trains", "Railway Mania", "The Lost Colony",
        "The Printing Press", "Medieval Fast Food",
    ),
    "Comedy": (
        "We Tried Cold Plunges", "Worst Jobs We've Ever Had", "Listener Confessions",
        "Ranking Breakfast Cereals", "Our Most Embarrassing Moments", "The Great Sandwich Debate",
        "Live from the Couch", "We Took a Cooking Class", "Airport Etiquette",
        "Bad Advice Hotline", "We Ranked Every Holiday", "Our Parents' Worst Advice",
        "The Worst Gift Ever", "We Tried Stand-Up", "Conspiracy Theories We Half Believe",
        "Ranking Pizza Toppings", "Camping Disasters", "The Group Chat Files",
        "We Learned to Juggle", "Childhood Fears", "Bad Roommate Stories",
        "The Dating App Episode", "Our Weirdest Dreams", "Haunted Hotel Stories",
        "Kitchen Fails",
    ),
    "Health": (
        "What Happens When You Stop Drinking Coffee", "Sleep Myths, Busted",
        "Strength Training After 40", "The Truth About Stretching", "Walking Is Underrated",
        "Eating for Energy", "Stress and the Body", "How to Start Running", "Hydration Myths",
        "Why We Snack at Night", "The Science of Naps", "Posture Myths",
        "How Much Protein Do You Need?", "Cold Showers, Explained", "Screen Time and Sleep",
        "Running Injuries", "The Gut-Brain Connection", "Loneliness and Health",
        "Breathing Exercises", "Sugar, Honestly", "Why Rest Days Matter",
        "Stretching at Your Desk", "Vitamins: Worth It?", "Managing Back Pain",
        "Eating Out, Eating Well",
    ),
}  # fmt: skip
_GUEST_TOPICS: Final = ("Interview: {first} {last}", "In Conversation with {first} {last}")
# How a show numbers its episodes; a show keeps one style for all of them.
PODCAST_NUMBERING: Final = ("Ep. {n}: {topic}", "{n}. {topic}", "{topic}", "{topic}")


def podcast_show(fake: Fake, genre: str, host: str, cohost: str) -> str:
    templates = PODCAST_SHOWS.get(genre, PODCAST_SHOWS["Comedy"])
    return fill(fake, pick(fake, templates), {}, host=host, cohost=cohost)


def podcast_episode(fake: Fake, genre: str, show: str, numbering: str, number: int) -> str:
    """An episode's title in its show's numbering style ("Ep. 42: Pricing Power")."""
    return numbering.format(n=number, topic=podcast_topic(fake, genre, show, number))


def podcast_topic(fake: Fake, genre: str, show: str, number: int) -> str:
    """What an episode is about, before its show numbers it: a show is unique in its topics
    ("Ep. 3: Pricing Power" and "Ep. 9: Pricing Power" are one topic twice)."""
    if number == 1 and chance(fake, 0.3):
        return f"Welcome to {show}"
    if chance(fake, 0.2):
        return fill(fake, pick(fake, _GUEST_TOPICS), {})
    return fill(fake, pick(fake, PODCAST_TOPICS.get(genre, PODCAST_TOPICS["Comedy"])), {})


def podcast_topics(genre: str) -> list[str]:
    """Every topic of a genre's list that names nobody and nowhere."""
    topics = PODCAST_TOPICS.get(genre, PODCAST_TOPICS["Comedy"])
    return [topic for topic in topics if "{" not in topic]


def podcast_label(fake: Fake) -> str:
    stem = pick(fake, ("Lantern", "Kestrel", "Campfire", "Soundwell", "Echo Valley", "Paper Moon",
                       "Tin Can", "Open Mic", "Harbor"))  # fmt: skip
    return f"{stem} {pick(fake, ('Audio', 'Podcasts', 'Media', 'Radio Network'))}"


# --- advertisers --------------------------------------------------------------------------------

# Invented stems: no real company is named on purpose, whatever a seed draws.
_BRAND_STEMS: Final = (
    "Corvane", "Solenne", "Quillon", "Tidewell", "Aldermoor", "Harborstone", "Ironleaf",
    "Brightwater", "Kestrelle", "Marlowe", "Oakhurst", "Pinecrest", "Caldera", "Meadowlark",
    "Stonegate", "Bellwether", "Trellis", "Ravenna", "Sablewood", "Larchmont", "Wrenwood",
    "Ambergate", "Foxmoor", "Coralline", "Everline", "Norwell", "Palisade", "Rowan", "Tessera",
    "Varda", "Zephyra", "Cresta", "Dovetail", "Emberly", "Fennwick", "Glenrock", "Hollins",
    "Orbita", "Lumara", "Halcyon", "Redpoint", "Arden", "Fairlane",
)  # fmt: skip

# By industry, its kinds of business (a key of _BUSINESSES).
_INDUSTRIES: Final[Mapping[str, tuple[str, ...]]] = {
    "auto": ("automaker",),
    "insurance": ("insurer",),
    "telecom": ("wireless", "broadband"),
    "fast food": ("burgers", "chicken", "pizza", "tacos", "diner"),
    "streaming": ("streaming",),
    "retail": ("retailer",),
    "pharma": ("pharma",),
    "finance": ("bank", "investments"),
    "travel": ("airline", "cruises", "hotels"),
    "beverage": ("coffee", "soft drinks", "brewery"),
}
# Campaigns any business of an industry runs.
_FAST_FOOD: Final = (
    "Value Menu", "Late Night Cravings", "Family Meal Deal", "Game Day Bundles",
    "Limited-Time Spicy Menu", "Order Ahead, Skip the Line",
)  # fmt: skip
_TRAVEL: Final = (
    "Book Early and Save", "Winter Escapes", "Weekend Getaways", "Spring Break {year}",
)  # fmt: skip
# By kind of business: how its brands are named, and the campaigns that fit what it sells: a
# drug maker runs awareness campaigns and an insurer bundles, never a seasonal sale; a carmaker
# launches models and holds sales events; shops and travel sell by the season. {year}, {model}
# and {drug} are filled per advertiser.
_BUSINESSES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "automaker": (
        ("{stem} Motors", "{stem} Automotive", "{stem} Trucks"),
        ("The All-New {model}", "Meet the {model}", "Model Year Sales Event",
         "Year-End Clearance {year}", "Summer Sales Event", "Test Drive Days", "Go Electric",
         "Built for the Weekend", "Summer Road Trip", "Certified Pre-Owned Event"),
    ),
    "insurer": (
        ("{stem} Insurance", "{stem} Mutual", "{stem} Assurance"),
        ("Switch and Save", "Bundle and Save", "Bundle Home and Auto", "Here When It Rains",
         "Claims in Minutes", "New Driver Discounts", "Protect What Matters",
         "Safe Driver Rewards", "Renters Coverage Made Simple"),
    ),
    "wireless": (
        ("{stem} Wireless", "{stem} Mobile"),
        ("Unlimited for Less", "Bring Your Own Phone", "Family Plan Deals", "Switch Today",
         "Holiday Phone Deals {year}", "Trade In, Trade Up", "Coverage Where You Are"),
    ),
    "broadband": (
        ("{stem} Fiber", "{stem} Broadband"),
        ("Fiber Comes to Town", "Faster Home Internet", "Gig Speeds for Less", "No Data Caps",
         "Switch Today", "Free Installation"),
    ),
    "burgers": (
        ("Burger Hollow", "Flame & Bun", "Stackhouse Burgers"),
        ("The Double Stack Is Back", "Breakfast All Day", *_FAST_FOOD),
    ),
    "chicken": (
        ("Crispy Coop", "Rooster Run Chicken"),
        ("Spicy Tenders Are Back", "The Family Bucket", *_FAST_FOOD),
    ),
    "pizza": (
        ("Pizza Mondo", "Piccolo Pizza"),
        ("Any Large, Any Toppings", "Stuffed Crust Is Back", *_FAST_FOOD),
    ),
    "tacos": (
        ("Taco Lantern", "Little Lime Tacos"),
        ("Taco Tuesday, Every Day", "The Loaded Burrito", *_FAST_FOOD),
    ),
    "diner": (
        ("Sunny Side Diner", "{stem}'s Kitchen"),
        ("Breakfast All Day", "Bottomless Coffee", "Pancake Week", *_FAST_FOOD),
    ),
    "streaming": (
        ("{stem}+", "{stem} Play", "{stem} TV"),
        ("New Season Now Streaming", "Watch Free for 30 Days", "Fall Premieres {year}",
         "Movie Night, Every Night", "The Weekend Binge", "Holiday Movies All Month"),
    ),
    "retailer": (
        ("{stem} Market", "{stem} & Co.", "{stem} Outfitters", "{stem} Home", "{stem} Supply Co."),
        ("Spring Sale {year}", "Back to School {year}", "Black Friday Deals",
         "Holiday Gift Guide", "Weekend Doorbusters", "Semi-Annual Sale",
         "Summer Savings {year}", "New Year Sale {year}"),
    ),
    "pharma": (
        ("{stem} Pharmaceuticals", "{stem} Health", "{stem} Therapeutics"),
        ("Ask Your Doctor About {drug}", "Breathe Easier", "Allergy Season Relief",
         "Sleep Through the Night", "Move Freely Again", "Talk to Your Doctor Today",
         "Fewer Flare-Ups", "Take Heart"),
    ),
    "bank": (
        ("{stem} Bank", "{stem} Credit Union"),
        ("Cash Back Every Day", "Open an Account in Minutes", "No-Fee Checking",
         "First Home, Made Simple", "Rewards That Travel", "Banking in Your Pocket"),
    ),
    "investments": (
        ("{stem} Financial", "{stem} Investments"),
        ("Retire on Your Terms", "Invest in Your Future", "Talk to a Real Advisor",
         "Your Money, Your Goals", "Plan for College", "Grow Your Savings"),
    ),
    "airline": (
        ("{stem} Airlines",),
        ("Summer Fares Are Here", "Fly Nonstop", "Kids Fly Free", *_TRAVEL),
    ),
    "cruises": (
        ("{stem} Cruises",),
        ("Kids Sail Free", "Island Hopping", "Wave Season Sale", *_TRAVEL),
    ),
    "hotels": (
        ("{stem} Hotels", "{stem} Resorts"),
        ("Kids Stay Free", "Stay Longer, Save More", "Your Room Is Ready", *_TRAVEL),
    ),
    "coffee": (
        ("{stem} Coffee", "{stem} Tea"),
        ("Morning Ritual", "New Cold Brew", "Holiday Blend {year}", "Slow Down and Sip",
         "Iced for Summer", "Every Cup Fair Trade"),
    ),
    "soft drinks": (
        ("{stem} Sparkling",),
        ("Taste the Summer", "Zero Sugar, All Flavor", "Game Day Refreshment",
         "New Flavors Are Here", "Bubbles for Everyone"),
    ),
    "brewery": (
        ("{stem} Brewing Co.",),
        ("Game Day Refreshment", "Taste the Summer", "The Seasonal Ale Is Back",
         "Crafted Slow", "Raise a Glass"),
    ),
}  # fmt: skip
_MODELS: Final = ("Arlo", "Calder", "Solano", "Vireo", "Kestra", "Halden")
_BODIES: Final = ("SUV", "Hybrid", "EV", "Pickup", "Sedan")
_DRUG_HEADS: Final = ("Zen", "Alv", "Cor", "Nex", "Lum", "Vel", "Oxa", "Tri", "Ser", "Pra")
_DRUG_TAILS: Final = ("trova", "ira", "exa", "olin", "eva", "ostin", "aza", "enta", "idra")
# Fictional ad servers and CDNs; each advertiser's agency serves from one of them.
_AD_HOSTS: Final = (
    "cdn.spotreel-ads.net", "media.adtrellis.net", "v.reelpost-cdn.com",
    "creative.tallyframe-ads.net", "serve.adquarry.net", "video.plinthcdn.net",
)  # fmt: skip


def advertiser(fake: Fake, taken: set[str]) -> tuple[str, str]:
    """A fictional advertiser not in `taken`, and the kind of business it is (what it sells,
    and so which campaigns it runs)."""
    kinds: dict[str, str] = {}

    def draw() -> str:
        # The kind is drawn again with the name: one with few names (a pizza chain) may have
        # none left, another has plenty.
        kind = pick(fake, _INDUSTRIES[pick(fake, tuple(_INDUSTRIES))])
        brand = pick(fake, _BUSINESSES[kind][0]).format(stem=pick(fake, _BRAND_STEMS))
        kinds[brand] = kinds[""] = kind  # "": the last drawn, for a name numbered by `unique`
        return brand

    brand = unique(fake, draw, taken)
    return brand, kinds.get(brand, kinds[""])


def ad_campaigns(fake: Fake, kind: str, count: int) -> list[str]:
    """`count` different campaigns of one advertiser of this kind (as `advertiser` gives)."""
    year = str(pick(fake, (2025, 2026)))
    model = f"{pick(fake, _MODELS)} {pick(fake, _BODIES)}"
    drug = pick(fake, _DRUG_HEADS) + pick(fake, _DRUG_TAILS)
    options = list(_BUSINESSES[kind][1])
    fake.random.shuffle(options)
    return [name.format(year=year, model=model, drug=drug) for name in options[:count]]


def ad_host(fake: Fake) -> str:
    return pick(fake, _AD_HOSTS)
