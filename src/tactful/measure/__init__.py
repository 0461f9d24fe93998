"""measure: what customers did about decisions (outcomes), how each action engages (the
engagement report), and experiments with their statistics. The decision layer reads outcomes
back (``decide.repository.learned``): this is where the loop learns."""
