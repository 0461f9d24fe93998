"""measure: what customers did about decisions (outcomes), how each action engages (the
engagement report), experiments with their statistics, and off-policy estimates of a policy
before it is launched. The decision layer reads outcomes back (``decide.repository.learned``):
this is where the loop learns."""
