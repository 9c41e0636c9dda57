"""CRM customers: identities from Faker pools, a planted persona per customer, and profile changes over time
(moves, new email addresses) that the CRM exports as a change feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ingestion.world.ids import numbered, sequential_ids
from ingestion.world.params import PERSONAS
from ingestion.world.pools import Pools
from ingestion.world.random import rng_for

CUSTOMERS_AT_SF1 = 20_000
REGION_WEIGHTS = {"NE": 0.20, "SE": 0.22, "MW": 0.18, "SW": 0.12, "MT": 0.08, "WC": 0.20}


@dataclass(frozen=True)
class Customers:
    profiles: pd.DataFrame  # one row per customer as first registered, with latent persona columns
    changes: pd.DataFrame  # customer_id, changed_at, change_type, and the new values of changed columns
    consent_withdrawals: pd.DataFrame  # customer_id, channel, recorded_at


def _identity(rng: np.random.Generator, pools: Pools, ids: np.ndarray, region_idx: np.ndarray, regions):
    n = len(ids)
    first = pools.first_names[rng.integers(0, len(pools.first_names), n)]
    last = pools.last_names[rng.integers(0, len(pools.last_names), n)]
    local = pd.Series(first).str.lower() + "." + pd.Series(last).str.lower().str.replace(r"[^a-z]", "", regex=True)
    domains = pools.email_domains[rng.integers(0, len(pools.email_domains), n)]
    digits = rng.integers(200, 999, (n, 2))
    line = rng.integers(0, 10_000, n)
    per_region = len(pools.cities) // len(regions)
    return {
        "first_name": first,
        "last_name": last,
        # The id in the address keeps emails unique without a Python loop over customers.
        "email": (local + pd.Series(ids).astype(str) + "@" + domains).to_numpy(),
        "phone": _phones(digits[:, 0], digits[:, 1], line),
        "street_address": pools.streets[rng.integers(0, len(pools.streets), n)],
        "city": pools.cities[region_idx * per_region + rng.integers(0, per_region, n)],
        "region_code": np.asarray(regions)[region_idx],
    }


def _phones(area: np.ndarray, exchange: np.ndarray, line: np.ndarray) -> np.ndarray:
    """``f"+1-{a}-{b}-{c:04d}"`` of each three-digit area and exchange and four-digit line, as Python strings
    (the caller blanks some): the digits written by ids.numbered and joined by Arrow, not an f-string a row."""
    parts = [numbered("", area, 3), numbered("", exchange, 3), numbered("", line, 4)]
    return pc.binary_join_element_wise("+1", *parts, "-").to_numpy(zero_copy_only=False)


def generate_customers(
    seed: int, scale_factor: float, region_codes: list[str], pools: Pools, start_date: dt.date, end_date: dt.date
) -> Customers:
    rng = rng_for(seed, "customers")
    n = max(int(round(CUSTOMERS_AT_SF1 * scale_factor)), 50)
    ids = np.arange(1, n + 1)
    weights = np.array([REGION_WEIGHTS.get(r, 0.1) for r in region_codes])
    region_idx = rng.choice(len(region_codes), n, p=weights / weights.sum())
    ident = _identity(rng, pools, ids, region_idx, region_codes)
    persona_idx = rng.choice(len(PERSONAS), n, p=[p.share for p in PERSONAS])
    persona = np.array([PERSONAS[i].name for i in persona_idx], dtype=object)
    phone = ident["phone"].copy()
    phone[rng.random(n) < 0.12] = None
    birth = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 56 * 365, n), unit="D")
    birth_date = pd.Series(birth.date, dtype=object)
    birth_date[rng.random(n) < 0.08] = None
    period_days = (end_date - start_date).days + 1
    before = rng.random(n) < 0.6
    offset_days = np.where(before, -rng.integers(1, 5 * 365, n), rng.integers(0, period_days, n))
    signed_up = (
        pd.Timestamp(start_date)
        + pd.to_timedelta(offset_days, unit="D")
        + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    )
    lapses = np.array([PERSONAS[i].lapses for i in persona_idx])
    lapse_offset = rng.integers(int(period_days * 0.1), int(period_days * 0.45) + 1, n)
    lapsed_from = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    lapsed_from[lapses] = np.maximum(pd.Timestamp(start_date), signed_up[lapses].normalize()) + pd.to_timedelta(
        lapse_offset[lapses], "D"
    )
    email_consent = rng.random(n) < np.array([PERSONAS[i].email_consent for i in persona_idx])
    push_consent = rng.random(n) < np.array([PERSONAS[i].push_consent for i in persona_idx])
    tier = np.where(persona == "loyal_premium", "gold", np.where(persona == "bargain_hunter", "silver", "none"))
    profiles = pd.DataFrame(
        {
            # Written by NumPy (ids.numbered) while they fit seven digits; wider ids keep the f-string's text.
            "customer_id": sequential_ids("C", n, 7) if n < 10**7 else [f"C{i:07d}" for i in ids],
            "email": ident["email"],
            "first_name": ident["first_name"],
            "last_name": ident["last_name"],
            "phone": phone,
            "street_address": ident["street_address"],
            "city": ident["city"],
            "region_code": ident["region_code"],
            "country_code": "US",
            "birth_date": birth_date,
            "signed_up_at": signed_up,
            "loyalty_tier": tier,
            "email_consent": email_consent,
            "push_consent": push_consent,
            "persona": persona,
            "lapsed_from": lapsed_from,
        }
    )
    changes = _profile_changes(rng, pools, profiles, region_codes, start_date, end_date)
    return Customers(profiles=profiles, changes=changes, consent_withdrawals=_withdrawals(rng, profiles, end_date))


def _withdrawals(rng: np.random.Generator, profiles: pd.DataFrame, end_date: dt.date) -> pd.DataFrame:
    """About 5% of granted consents are withdrawn later, at a random time before the end."""
    frames = []
    for channel in ("email", "push"):
        granted = profiles[profiles[f"{channel}_consent"]]
        who = granted[rng.random(len(granted)) < 0.05]
        span = (pd.Timestamp(end_date) - who["signed_up_at"]).dt.total_seconds().to_numpy()
        when = who["signed_up_at"] + pd.to_timedelta((rng.random(len(who)) * np.maximum(span, 0)).astype(np.int64), "s")
        frames.append(
            pd.DataFrame(
                {"customer_id": who["customer_id"].to_numpy(), "channel": channel, "recorded_at": when.to_numpy()}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _profile_changes(rng, pools, profiles: pd.DataFrame, region_codes, start_date, end_date) -> pd.DataFrame:
    """Planted moves (6% a year) and email changes (4% a year) at dates after sign-up."""
    n = len(profiles)
    frames = []
    # clip, not np.maximum: NumPy's maximum of a datetime column and a Timestamp went value by value.
    start = profiles["signed_up_at"].dt.normalize().clip(lower=pd.Timestamp(start_date)) + pd.Timedelta(days=1)
    span = (pd.Timestamp(end_date) - start).dt.days.to_numpy()
    for kind, rate in (("moved", 0.06), ("email_changed", 0.04)):
        who = np.flatnonzero((rng.random(n) < rate) & (span > 1))
        when = start.iloc[who] + pd.to_timedelta(rng.integers(0, np.maximum(span[who], 1)), "D")
        when = when + pd.to_timedelta(rng.integers(8 * 3600, 22 * 3600, len(who)), "s")
        frame = pd.DataFrame(
            {"customer_id": profiles["customer_id"].to_numpy()[who], "changed_at": when.to_numpy(), "change_type": kind}
        )
        if kind == "moved":
            region_idx = rng.integers(0, len(region_codes), len(who))
            ident = _identity(rng, pools, np.arange(len(who)), region_idx, region_codes)
            frame["street_address"] = ident["street_address"]
            frame["city"] = ident["city"]
            frame["region_code"] = ident["region_code"]
        else:
            old = profiles["email"].to_numpy()[who]
            frame["email"] = [e.replace("@", ".new@", 1) for e in old]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).sort_values(["changed_at", "customer_id"]).reset_index(drop=True)
