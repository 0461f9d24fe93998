"""The vocabulary every part of the simulator shares: addressable randomness, the days of the
window, the internal row records and their codes, the category taxonomy the truth is written in,
and the reader of the literal catalogues in ``simulate/data/``."""
