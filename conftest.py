"""Collection settings whose paths are relative to the repository."""

# playersim.contrib.locust imports Locust, and Locust patches the standard library for gevent
# as it is imported: collected for its doctests, it would change the process under every other
# test. It is tested in Locust's own processes instead (tests/test_locust.py).
collect_ignore = ["playersim/contrib/locust.py"]
