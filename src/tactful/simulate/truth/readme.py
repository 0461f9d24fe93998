"""The README written next to the truth files (kept in code so it ships with the package)."""

from __future__ import annotations

from typing import Final

TRUTH_README: Final = """\
# Simulator truth

These files record what the simulated bank's exports were generated from. The engine never
reads them; evaluation (`make eval`) does. All are Parquet. Dates are ISO dates in the
customer's local calendar; amounts are signed integer minor units of the account currency
(credits positive), like `amount_minor` in the exports. Ids join to the exports:
`customer_id` to customers, `account_id` to accounts, `transaction_id` to transactions.
See docs/simulator.md for how each behaviour is modelled and the figures behind it.

## customers.parquet — one row per customer
customer_id; persona; region (EU/UK/US); city; age_band; income_net_annual_minor (net annual
income at the start of the window); income_level (low/middle/high/very_high vs the region's
median); employment (student/wage/pension/gig/business); housing (rent/mortgage/own/parents);
children; login_habit (daily_morning/daily_evening/weekly/payday/dormant); read_hour (local hour
the customer usually reads messages); preferred_channel (highest hidden affinity); alert_channel
(where the bank's own alerts reach them: push/email/sms); push_enabled; engagement (hidden
responsiveness multiplier, median 1); spending_level (hidden discretionary spending multiplier);
churner; churn_intent_date; churn_closure_date (null if not closed inside the window);
fraud_victim; fraud_pattern; fraud_date.

## accounts.parquet — one row per account
account_id; customer_id; account_type; opening_balance_minor (balance at the window's start);
limit_minor (how far below zero a card payment may go: arranged overdraft or credit limit; 0 for
US debit cards not opted in to overdraft coverage); interest_rate_credit / interest_rate_debit
(annual rates used by the ledger); card_revolver (the card holder pays part of the statement).

## recurring_series.parquet — every recurring series
series_id (`SER-<customer>-<slot>`); customer_id; account_id (the account the payments hit);
kind (payroll, pension, gig_income, business_income, benefit, allowance, child_benefit,
tax_refund, bonus, rent, mortgage, loan_payment, bill, subscription, transfer,
credit_card_payment, childcare, tax); cadence (weekly, biweekly, semi_monthly, monthly,
quarterly, yearly, four_weekly, irregular); counterparty (canonical payer/payee/service name);
category_detailed; amount_minor (signed amount at the series' start; later amounts in
price_changes); amount_varies (true when each payment differs: metered bills, hourly pay, gig
payouts, card repayments, invoices -- the actual amounts are in series_members); currency;
anchor_day (day of month 1-31 for monthly/quarterly/yearly, 31 = last day; for semi-monthly 0 =
15th and last, 1 = 1st and 15th; for weekly cadences a reference day, days since the window
start); anchor_month (1-12, for yearly and quarterly); start_date (null for series older than
the truth horizon); end_date (null if still running at the window's end); cancelled (ended
inside the window: a cancellation, a move, a job loss, a churner moving it away).

## price_changes.parquet — every amount change of a series
series_id; effective_date (the first payment on or after this date uses the new amount);
old_amount_minor; new_amount_minor; reason (price_rise, raise, cut, review, uprating).

## series_members.parquet — transaction -> series
transaction_id; series_id; date; amount_minor (the amount booked; for fixed-amount series it
equals the series amount in force on that date).

## income_streams.parquet / income_changes.parquet
The income subset of recurring_series (same columns) and of price_changes (raises, parental
leave cuts, pension upratings).

## life_events.parquet
customer_id; kind (salary_raise, job_loss, new_job, new_baby, moving_house, retirement,
employer_change -- the last day with the old employer before a new one, without a job loss); date;
value (the raise as a fraction for salary_raise, else 0).

## behaviour_changes.parquet — why a customer's spending in a category changed, and when
customer_id; cause (new_habit, cutback, moving_house, new_baby); spend_kind (the simulator's
kind of spending); category_primary / category_detailed (the category its merchants carry);
start_date; end_date (exclusive; null if the change outlasts the window); factor (multiplier of
the customer's usual rate of payments of that kind; null for spending that is new altogether,
baby shopping). See docs/simulator.md, "Habits". A spending-spike message is true because of a
row here, not because some arithmetic on the transactions crossed a threshold.

## customer_needs.parquet — the customer's hidden money needs, by the simulator's definitions
customer_id; date; stressed (the checking balance less the true bills due before the next pay is
below an emergency buffer of $400 at the region's price level -- Fed SHED); idle_cash (the checking
balance stayed above six weeks of take-home pay for the last 90 days -- JPMorgan Chase Institute,
Weathering Volatility 2.0, 2019); shortfall_date (the balance is >= 0 at the end of `date` and goes
below zero on this day, before the customer's next pay; null if not). One row per customer and day
on which at least one holds. See docs/simulator.md, "Hidden needs".

## fraud.parquet — every fraudulent card attempt
transaction_id; customer_id; pattern (card_testing, unusual_country, unusual_amount,
unusual_merchant); declined; amount_minor. Approved fraud is refunded on the card-reissue day
(a `TRANSFER_IN_OTHER_TRANSFER_IN` credit described as a chargeback).

## churn.parquet — customers who decided to leave
customer_id; intent_date; salary_move_date (the salary goes to the new bank; null if after the
window); closure_date (accounts emptied and closed; null if after the window).

## transaction_truth.parquet — one row per exported transaction (declined ones included)
transaction_id; category_primary; category_detailed (Plaid-style two-level taxonomy, see
`tactful.simulate.base.taxonomy`); merchant (canonical merchant, service, payer or payee name;
"unknown" for fraudsters; null for internal rows such as interest); series_id; fraud.
A card refund carries its purchase's category and merchant (a credit); the reversal of a
returned direct debit carries the bill's category and biller but no series_id, while the retry a
week later is a payment of the series; one-off direct debits and payments to or from other
people have no series_id (people: TRANSFER_OUT_OTHER_TRANSFER_OUT / TRANSFER_IN_OTHER_TRANSFER_IN).

## response_params.parquet — hidden response parameters, one row per customer and channel
customer_id; channel (in_app, email, sms, push); reachable (the channel can deliver to this
customer at all); affinity (multiplier of the channel's base open rate); base_open; engagement;
read_hour; quiet_start_minute / quiet_end_minute (minutes after midnight, -1 = none).
The probability of an open is base_open x affinity x sqrt(engagement) x hour_factor /
(1 + fatigue x messages in the last 7 days), hour_factor = 0.35 + 0.65 exp(-d^2 / (2 w^2)) with d
the distance in hours to read_hour and w = hour_width_h, divided by 3 inside quiet hours.

## response_model.parquet — the shared parameters of the response model
parameter, key, value: base open rates and unopened-dismissal rates per channel; click and
convert probabilities per message kind for relevant and irrelevant messages (a relevant
message converts ~7x as often, the UCI Bank Marketing lift after a prior success); dismissal,
fatigue and opt-out parameters. Relevance (whether a message helps the customer at that moment)
is a noisy function of the customer's hidden state and of timing, docs/simulator.md,
"Relevance".
"""
