"""The simulated player: a sans-IO state machine with its playhead, the behaviours that
decide what a viewer does, scripted timelines, and the viewings a workload asks for.
"""
