"""Random streams that hold their state only while they draw.

A viewing draws from RNGs of its own, each seeded by a string that names it, so its traffic is
the same whatever else is simulated beside it. A `random.Random` carries the Mersenne Twister's
624 words of state, 2.5 KB, whether it draws once a minute or never again.

A `RandomStream` gives the same numbers, draw for draw, as `random.Random(seed)` would, and
puts its state away between uses (`sleep`): it keeps its seed and how many 32-bit words of the
Twister it has taken, and is made again when next drawn from, seeded afresh and moved past
those words at C speed. Every draw of a `random.Random` comes down to `random()` (two words)
or `getrandbits(k)` (a word for each 32 bits, none for 0), and Random's own methods call those
two through `self`: so counting them in a subclass counts every word taken, exactly.

    >>> stream, plain = RandomStream("3:vod-movie:7"), random.Random("3:vod-movie:7")
    >>> first = stream.lognormvariate(0.0, 1.0), stream.choice("abc"), stream.gauss(0, 1)
    >>> stream.sleep()  # 2.5 KB let go; the next draw makes it again
    >>> later = stream.gauss(0, 1), stream.randrange(10**30), stream.random()
    >>> (*first, *later) == (plain.lognormvariate(0.0, 1.0), plain.choice("abc"),
    ...     plain.gauss(0, 1), plain.gauss(0, 1), plain.randrange(10**30), plain.random())
    True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final, TypeAlias, TypeVar

__all__ = ["RandomStream", "Rng"]

_T = TypeVar("_T")

_random: Final = random.Random.random
_getrandbits: Final = random.Random.getrandbits
# Words skipped per call when a stream is made again: no int of more than 16 KB at a time.
_SKIP_WORDS: Final = 1 << 12


class _Counted(random.Random):
    """A `random.Random` that counts the 32-bit words it takes from its Twister.

    (Defining `getrandbits` here keeps Random's `_randbelow` the one that calls it, as the
    base class's is: the numbers are Random's own.)
    """

    __slots__ = ("words",)  # (a slot: the count is kept at every draw)
    words: int
    gauss_next: float | None  # (set by Random's `seed`; typeshed leaves it out)

    def random(self) -> float:
        self.words += 2
        return _random(self)

    def getrandbits(self, k: int, /) -> int:
        bits = _getrandbits(self, k)
        self.words += (k + 31) >> 5  # (raised above for a negative k, before any word)
        return bits


class RandomStream:
    """`random.Random(seed)`'s numbers, with its state put away between uses (`sleep`).

    Drawn from through the methods below (those the simulation uses); `awake()` is the live
    `random.Random` itself, for anything else. Asleep, a stream holds its seed, a count and
    the cached second value of `gauss`: about 100 bytes.
    """

    __slots__ = ("_gauss", "_live", "_seed", "_words")

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._live: _Counted | None = None
        # Words taken by the last sleep (awake: by the last `rest` that found draws).
        self._words = 0
        self._gauss: float | None = None  # `gauss` makes two values a time and keeps one

    def awake(self) -> random.Random:
        """The live stream, as it stands after every draw so far (made again if asleep): for a
        run of draws in one place, or a method the stream does not offer (`shuffle`, `sample`).

        Draw from it only until the stream's next `sleep` or `rest`: draws made after that
        through a reference kept are not counted, and the stream made again would not follow
        them. Never `seed` or `setstate` it.
        """
        live = self._live
        if live is None:
            live = self._live = _Counted(self._seed)
            words = self._words
            while words:
                skip = min(words, _SKIP_WORDS)
                _getrandbits(live, 32 * skip)
                words -= skip
            live.words = self._words
            live.gauss_next = self._gauss
        return live

    def sleep(self) -> None:
        """Put the state away until the next draw (nothing to do if already asleep)."""
        live = self._live
        if live is not None:
            self._words = live.words
            self._gauss = live.gauss_next
            self._live = None

    def rest(self) -> None:
        """Sleep, unless drawn from since it woke or since the last `rest`. An owner that draws
        in bursts (at a few wake-ups in a row, then none for minutes) calls this at the end of
        each of its wake-ups: the stream stays awake through a burst and sleeps at the end of
        the first wake-up after it that drew nothing, so it is made again once a burst rather
        than at each wake-up. (A `gauss` served from the value it keeps draws no word, and
        counts as nothing drawn: harmless, since sleeping keeps that value.)"""
        live = self._live
        if live is None:
            return
        if live.words == self._words:
            self.sleep()
        else:
            self._words = live.words

    @property
    def asleep(self) -> bool:
        """Whether the stream holds no state now (its next draw makes it again)."""
        return self._live is None

    # --- the draws, as `random.Random` makes them ------------------------------------------------

    def random(self) -> float:
        return (self._live or self.awake()).random()

    def getrandbits(self, k: int, /) -> int:
        return (self._live or self.awake()).getrandbits(k)

    def uniform(self, a: float, b: float) -> float:
        return (self._live or self.awake()).uniform(a, b)

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        return (self._live or self.awake()).randrange(start, stop, step)

    def randint(self, a: int, b: int) -> int:
        return (self._live or self.awake()).randint(a, b)

    def choice(self, seq: Sequence[_T]) -> _T:
        return (self._live or self.awake()).choice(seq)

    def choices(
        self,
        population: Sequence[_T],
        weights: Sequence[float] | None = None,
        *,
        cum_weights: Sequence[float] | None = None,
        k: int = 1,
    ) -> list[_T]:
        return (self._live or self.awake()).choices(
            population, weights, cum_weights=cum_weights, k=k
        )

    def expovariate(self, lambd: float) -> float:
        return (self._live or self.awake()).expovariate(lambd)

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return (self._live or self.awake()).gauss(mu, sigma)

    def normalvariate(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return (self._live or self.awake()).normalvariate(mu, sigma)

    def lognormvariate(self, mu: float, sigma: float) -> float:
        return (self._live or self.awake()).lognormvariate(mu, sigma)

    def __repr__(self) -> str:
        state = "asleep" if self._live is None else "awake"
        return f"RandomStream({self._seed!r}, {state})"


# What a distribution, a pool or a behaviour draws from: a plain Random (a catalogue's, a
# workload's), or a session's stream.
Rng: TypeAlias = random.Random | RandomStream
