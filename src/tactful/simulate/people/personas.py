"""Who the customers are: seven personas and the draw of each customer's hidden traits.

A persona fixes the distributions (age, income, housing, products, spending level, app habits);
each customer is one draw, addressed by its global index so it does not depend on the chunk.
Income medians are net (after tax) annual amounts in US dollars of a US customer, scaled per
region by ``RegionProfile.income_scale`` (see docs/simulator.md, "Customers", for the public
figures: BLS usual weekly earnings, ONS ASHE, Eurostat net earnings, SSA average benefits).
The personas themselves are data (``data/personas.toml``, each field named).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base import data
from tactful.simulate.base.rng import Keyed
from tactful.simulate.people.regions import ALL_PLACES, COUNTRIES, PLACE_REGION, PROFILES, REGIONS

AGE_BANDS: Final = ("18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
GENDERS: Final = ("F", "M", "X")
EMPLOYMENT: Final = ("student", "wage", "pension", "gig", "business")
HOUSING: Final = ("rent", "mortgage", "own", "parents")
HABITS: Final = ("daily_morning", "daily_evening", "weekly", "payday", "dormant")
INCOME_LEVELS: Final = ("low", "middle", "high", "very_high")
LEVELS: Final = ("none", "basic", "moderate", "advanced")
PURPOSES: Final = ("personalization", "marketing", "analytics", "third_party_sharing", "profiling")
CHANNELS: Final = ("in_app", "email", "sms", "push")
QUIET: Final = ((22 * 60, 7 * 60), (21 * 60, 8 * 60), (23 * 60, 6 * 60 + 30), (-1, -1))


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    weight: float
    ages: tuple[float, ...]
    income_usd: float
    income_sigma: float
    employment: str
    housing: tuple[float, float, float, float]
    p_savings: float
    p_credit_card: float
    p_loan: float
    p_investment: float
    spend: float
    """Discretionary spending level relative to the average share of income."""
    subscriptions: float
    buffer_days: float
    """Median opening checking balance in days of net income."""
    p_car: float
    habits: tuple[float, float, float, float, float]
    children: tuple[float, float, float, float]


def _load() -> tuple[Persona, ...]:
    out = []
    for n, rec in enumerate(data.toml(_FILE)["persona"]):
        try:
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in rec.items()
            }
            out.append(Persona(**fields))
        except TypeError as exc:
            raise ValueError(f"simulate/data/{_FILE}: persona {n}: {exc!r}") from exc
    return tuple(out)


_FILE: Final = "personas.toml"
PERSONAS: Final[tuple[Persona, ...]] = _load()
"""The personas of ``data/personas.toml``, in file order (a persona's index is its code)."""
PERSONA_INDEX: Final = {p.name: i for i, p in enumerate(PERSONAS)}
SPEND_SIGMA, SPEND_INCOME_ELASTICITY = 0.35, 0.35


def _table(values: list[tuple[float, ...]]) -> NDArray[np.float64]:
    return np.array(values, dtype=np.float64)


@dataclass(slots=True)
class Population:
    """Hidden traits of a chunk of customers, one array entry per customer."""

    gidx: NDArray[np.int64]
    persona: NDArray[np.int64]
    place: NDArray[np.int64]
    region: NDArray[np.int64]
    country: NDArray[np.int64]
    age_band: NDArray[np.int64]
    gender: NDArray[np.int64]
    income: NDArray[np.float64]
    """Net annual income in major units of the local currency."""
    income_level: NDArray[np.int64]
    employment: NDArray[np.int64]
    housing: NDArray[np.int64]
    children: NDArray[np.int64]
    has_savings: NDArray[np.bool_]
    has_card: NDArray[np.bool_]
    has_loan: NDArray[np.bool_]
    mortgage_here: NDArray[np.bool_]
    has_investment: NDArray[np.bool_]
    car: NDArray[np.bool_]
    spend: NDArray[np.float64]
    buffer_days: NDArray[np.float64]
    subscriptions: NDArray[np.float64]
    habit: NDArray[np.int64]
    read_hour: NDArray[np.float64]
    ios: NDArray[np.bool_]
    push_enabled: NDArray[np.bool_]
    channels: NDArray[np.int64]
    """Bit mask over CHANNELS of the stated channel preferences."""
    quiet: NDArray[np.int64]
    level: NDArray[np.int64]
    consent_denied: NDArray[np.bool_]
    """(n, len(PURPOSES)): denied at onboarding."""
    created_day: NDArray[np.int64]
    created_sec: NDArray[np.int64]
    engagement: NDArray[np.float64]
    card_tail: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.gidx)

    @property
    def monthly_income(self) -> NDArray[np.float64]:
        return self.income / 12.0


def draw_population(
    r: Keyed,
    gidx: NDArray[np.int64],
    region_weights: tuple[float, float, float],
    persona_weights: tuple[float, ...] | None,
) -> Population:
    """Draw the customers ``gidx`` (global indices); every draw is keyed by the index."""
    n = len(gidx)
    pw = np.array(persona_weights or [p.weight for p in PERSONAS], dtype=np.float64)
    persona = r.categorical("persona", pw, gidx)
    region_w = np.array(region_weights, dtype=np.float64)
    region = r.categorical("region", region_w, gidx)
    place = np.empty(n, dtype=np.int64)
    for ri in range(len(REGIONS)):
        idx = np.flatnonzero(region == ri)
        if len(idx):
            cand = [i for i, pr in enumerate(PLACE_REGION) if pr == ri]
            w = np.array([ALL_PLACES[i].weight for i in cand])
            place[idx] = np.array(cand)[r.categorical("place", w, gidx[idx])]
    country = np.array([COUNTRIES.index(p.country) for p in ALL_PLACES])[place]

    ages = _table([p.ages for p in PERSONAS])[persona]
    age_band = r.categorical_rows("age", ages, gidx)
    gender = r.categorical("gender", np.array([0.505, 0.485, 0.01]), gidx)

    scale = np.array([PROFILES[g].income_scale for g in REGIONS])[region]
    med = np.array([p.income_usd for p in PERSONAS])[persona] * scale
    sig = np.array([p.income_sigma for p in PERSONAS])[persona]
    income = np.maximum(r.lognormal("income", med, sig, gidx), 0.15 * med)
    region_median = 47_000 * scale
    ratio = income / region_median
    income_level = np.searchsorted(np.array([0.6, 1.5, 3.0]), ratio, side="right").astype(np.int64)

    employment = np.array([EMPLOYMENT.index(p.employment) for p in PERSONAS])[persona]
    housing = r.categorical_rows("housing", _table([p.housing for p in PERSONAS])[persona], gidx)
    children = r.categorical_rows("children", _table([p.children for p in PERSONAS])[persona], gidx)

    def flag(name: str, attr: str) -> NDArray[np.bool_]:
        p = np.array([getattr(x, attr) for x in PERSONAS])[persona]
        return r.bernoulli(name, p, gidx)

    has_savings = flag("has_savings", "p_savings")
    has_card = flag("has_card", "p_credit_card")
    has_loan = flag("has_loan", "p_loan")
    has_investment = flag("has_investment", "p_investment")
    car = flag("car", "p_car")
    mortgage_here = (housing == HOUSING.index("mortgage")) & r.bernoulli(
        "mortgage_here", 0.55, gidx
    )

    # Lower incomes spend a larger share of income (BLS Consumer Expenditure Survey: the lowest
    # quintile spends more than its after-tax income, the highest ~60% of it), and households
    # differ widely at the same income.
    spend = np.array([p.spend for p in PERSONAS])[persona] * r.lognormal(
        "spend", ratio**-SPEND_INCOME_ELASTICITY, SPEND_SIGMA, gidx
    )
    buffer_days = r.lognormal(
        "buffer", np.array([p.buffer_days for p in PERSONAS])[persona], 0.9, gidx
    )
    subscriptions = np.array([p.subscriptions for p in PERSONAS])[persona]

    habit = r.categorical_rows("habit", _table([p.habits for p in PERSONAS])[persona], gidx)
    read_hour = _read_hour(r, gidx, habit)
    ios_share = np.array([0.3, 0.5, 0.55])[region]
    ios = r.bernoulli("ios", ios_share, gidx)
    push_enabled = r.bernoulli("push", np.where(ios, 0.5, 0.8), gidx) & (habit != 4)

    email = r.bernoulli("pref_email", 0.7, gidx)
    sms = r.bernoulli("pref_sms", 0.25, gidx)
    in_app = (habit != 4) | r.bernoulli("pref_app", 0.3, gidx)
    channels = in_app * 1 + email * 2 + sms * 4 + push_enabled * 8
    channels = np.where(channels == 0, 2, channels)
    quiet = r.categorical("quiet", np.array([0.6, 0.15, 0.1, 0.15]), gidx)

    denied_p = np.stack(
        [
            np.full(n, 0.08),
            np.array([PROFILES[g].marketing_denied_share for g in REGIONS])[region],
            np.full(n, 0.15),
            np.full(n, 0.65),
            np.full(n, 0.12),
        ],
        axis=1,
    )
    consent_denied = (
        r.uniform("consent", gidx[:, None], np.arange(len(PURPOSES))[None, :]) < denied_p
    )
    level = r.categorical("level", np.array([0.08, 0.3, 0.37, 0.25]), gidx)
    level = np.where(consent_denied[:, 0], 0, level)

    tenure_years = np.minimum(
        r.lognormal("tenure", 4.0, 0.9, gidx), np.where(persona == 0, 5.0, 30.0)
    )
    created_day = -np.maximum(np.rint(tenure_years * 365.25), 20).astype(np.int64)
    created_sec = (8 * 3600 + r.integers("created_sec", 14 * 3600, gidx)).astype(np.int64)

    engagement = r.lognormal("engagement", 1.0, 0.35, gidx)
    card_tail = 1000 + r.integers("card_tail", 9000, gidx)
    return Population(
        gidx=gidx,
        persona=persona,
        place=place,
        region=region,
        country=country,
        age_band=age_band,
        gender=gender,
        income=income,
        income_level=income_level,
        employment=employment,
        housing=housing,
        children=children,
        has_savings=has_savings,
        has_card=has_card,
        has_loan=has_loan,
        mortgage_here=mortgage_here,
        has_investment=has_investment,
        car=car,
        spend=spend,
        buffer_days=buffer_days,
        subscriptions=subscriptions,
        habit=habit,
        read_hour=read_hour,
        ios=ios,
        push_enabled=push_enabled,
        channels=channels,
        quiet=quiet,
        level=level,
        consent_denied=consent_denied,
        created_day=created_day,
        created_sec=created_sec,
        engagement=engagement,
        card_tail=card_tail,
    )


def _read_hour(r: Keyed, gidx: NDArray[np.int64], habit: NDArray[np.int64]) -> NDArray[np.float64]:
    """The local hour a customer usually reads messages, tied to the login habit."""
    z = r.normal("read_hour", gidx)
    u = r.uniform("read_hour_u", gidx)
    return np.select(
        [habit == 0, habit == 1],
        [7.0 + 0.4 * z, 20.5 + 0.8 * z],
        default=np.where(u < 0.5, 12.5 + 1.0 * z, 18.5 + 1.5 * z),
    ).clip(5.0, 23.5)
