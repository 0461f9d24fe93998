"""decide: for one customer, now, whether to say anything, what, where and when -- or silence.

``catalog`` (the actions TOML), ``contact`` (caps, quiet hours, suppression, repeats, back-off),
``attention`` (one budget per customer), ``bandit`` (Thompson sampling with exact pscore),
``policy`` (the pure decision), ``log`` (its JSON form), ``repository`` (the store) and
``service`` (the use cases the CLI calls). See docs/decide.md.
"""
