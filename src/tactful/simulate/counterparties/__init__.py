"""Who customers pay and are paid by: employers and other payers, billers, subscription services,
the card merchants of a world, and one table of every counterparty's name."""
