"""Understand: merchants, categories, recurring series and income, as pure functions over frames."""
