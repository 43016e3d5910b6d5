"""Who watches what: profiles, distributions, arrival curves, the catalogue and its
metadata, devices and the people of a run's audience.
"""
