"""`make eval`: the engine scored against the simulator's truth and against real public data.

The only part of Tactful besides the demo and the CLI that reads the simulator's truth.
"""
