"""Trust: consent, privacy by default, a customer's export and erasure.

Each concern has one module, so there is one door to each: ``privacy`` (masked identifiers,
files only their owner reads, pseudonyms), ``export`` (everything held about a customer) and
``erasure`` (removing it, and saying what was kept and why).
"""
