"""What drives players on a clock: the virtual-time engine, the real-time engine, replay of
a recording, the delivery of each session's requests, and the run's statistics.
"""
