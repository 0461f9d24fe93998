"""The shipped insight catalog. Importing this package registers every detector in it."""

from tactful.insights.detectors import bills, cashflow, income, periodic, products, spending

__all__ = ["bills", "cashflow", "income", "periodic", "products", "spending"]
