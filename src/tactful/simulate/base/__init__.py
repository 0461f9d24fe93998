"""The vocabulary every part of the simulator shares: addressable randomness, the days of the
window, the internal row records and their codes, and the category taxonomy the truth is written
in."""
