"""Trust: consent, privacy by default, a customer's export and erasure.

Each concern has one module, so there is one door to each: ``consent`` (who holds which
purpose now, and what a withdrawal retracts), ``privacy`` (masked identifiers,
files only their owner reads, pseudonyms), ``export`` (everything held about a customer) and
``erasure`` (removing it, and saying what was kept and why).
"""
