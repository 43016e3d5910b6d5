"""Who watches what: profiles, distributions and the random streams they draw from, arrival
curves, the catalogue and its metadata, devices and the people of a run's audience.
"""
