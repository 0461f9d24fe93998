"""The bank's own books: the accounts it holds, its products and who opens them, and the ledger
that books rows into balances, declines and fees."""
