"""The living world: the simulated bank stepped through time with the engine's decisions.

See docs/simulator.md, "The living world". ``World`` is the whole public surface; ``run`` steps one
through its window with no messages (``tactful simulate --world``).
"""

from tactful.simulate.world.state import WorldEvent, WorldState
from tactful.simulate.world.world import World, run

__all__ = ["World", "WorldEvent", "WorldState", "run"]
