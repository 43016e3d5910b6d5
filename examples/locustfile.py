"""Scale out on Locust: an evening's audience as Locust users (`pip install "playersim[locust]"`).

One machine, headless, against a collector (`playersim serve` in another terminal):

    locust -f examples/locustfile.py --host http://127.0.0.1:8080 --headless -u 200 -r 20 -t 5m

Many machines: one `--master` and any number of `--worker`s (see docs/locust.md). Each Locust user
is a viewer's seat: one viewing after another, its requests named by event type in Locust's
statistics. `--playersim-profiles` and `--playersim-seed` override the class's settings.
"""

from __future__ import annotations

from playersim.contrib.locust import PlayerUser


class EveningViewers(PlayerUser):
    # Mostly series and films, with news and sport live.
    profiles = ("vod-episode:4", "vod-movie:2", "live-news:1", "live-sports:1")
    seed = 2026
