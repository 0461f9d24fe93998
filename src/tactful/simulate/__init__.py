"""The synthetic bank: customers, their money and behaviour, the truth behind it, and how they
respond to messages. Nothing in the engine imports this package; the demo, the evaluation and
the CLI do.

>>> from tactful.simulate import SimulationConfig, Simulator
>>> sim = Simulator(SimulationConfig(customers=5, months=1, seed=7))
>>> sum(len(c.pop) for c in sim.chunks())
5
"""

from tactful.simulate.config import SimulationConfig
from tactful.simulate.simulator import FORMATS, SimulationSummary, Simulator, simulate

__all__ = ["FORMATS", "SimulationConfig", "SimulationSummary", "Simulator", "simulate"]
