"""The money flows: income, pay and pensions, recurring series and subscriptions, everyday
spending, travel, transfers between people, one-offs, refunds, returned debits, fraud, and how
customers react to their own balance."""
