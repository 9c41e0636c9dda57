"""Security events: customer logins and staff data access, with planted attacks to detect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ingestion.world.clickstream import ip_addresses
from ingestion.world.ids import lexsort, sequential_ids, take_text
from ingestion.world.random import rng_for

STAFF = 30
TABLES = np.array(
    [
        "marts.fct_orders",
        "marts.dim_customer",
        "marts.fct_order_lines",
        "marts.dim_product",
        "staging.stg_crm__customers",
    ],
    dtype=object,
)


def login_events(
    seed: int, profiles: pd.DataFrame, home_ip: np.ndarray, days: pd.DatetimeIndex
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer logins (a few failures) plus planted credential-stuffing bursts; returns (events, attacks)."""
    rng = rng_for(seed, "logins")
    n_days = len(days)
    signup_day = (profiles["signed_up_at"].dt.normalize() - days[0]).dt.days.clip(lower=0).to_numpy()
    per_customer = rng.poisson(12 * (n_days - np.minimum(signup_day, n_days)) / 365)
    cust = np.repeat(np.arange(len(profiles)), per_customer)
    day = signup_day[cust] + (rng.random(len(cust)) * (n_days - signup_day[cust])).astype(int)
    day = np.minimum(day, n_days - 1)
    at = days[day] + pd.to_timedelta(rng.integers(6 * 3600, 24 * 3600, len(cust)), "s")
    success = rng.random(len(cust)) > 0.03
    # Millions of rows at scale 10: the columns are kept as customer and address indexes and Arrow text
    # (taken once, in the final order), not as Python strings sorted through pandas.
    accounts, attempted, succeeded = [cust], [at.to_numpy()], [success]
    ip_text, ip_index = [pa.array(home_ip, pa.string())], [cust]
    attack_of = [np.full(len(cust), -1)]
    # Credential stuffing: a handful of IPs try many accounts within an hour or two, nearly all failing.
    attacks = []
    for k in range(max(1, round(3 * n_days / 365))):
        start = days[int(rng.integers(0, n_days))] + pd.Timedelta(hours=int(rng.integers(0, 22)))
        ips = ip_addresses(seed, 4, f"attack-{k}")
        n = int(rng.integers(400, 900))
        accounts.append(rng.integers(0, len(profiles), n))
        attempted.append((start + pd.to_timedelta(np.sort(rng.integers(0, 5400, n)), "s")).to_numpy())
        ip_index.append(sum(len(a) for a in ip_text) + rng.integers(0, 4, n))
        ip_text.append(pa.array(ips, pa.string()))
        succeeded.append(rng.random(n) < 0.01)
        attack_of.append(np.full(n, k))
        attacks.append(
            {
                "attack_id": f"ATK{k + 1:02d}",
                "kind": "credential_stuffing",
                "starts_at": start,
                "ends_at": start + pd.Timedelta(seconds=5400),
                "source": ",".join(ips),
            }
        )
    account, when = np.concatenate(accounts), np.concatenate(attempted)
    # Sorted by time, then account id (stable), as sort_values did: an account id's rank among the sorted ids
    # stands for the id (equal ids, equal ranks).
    rank, _ = pd.factorize(profiles["customer_id"], sort=True)
    order = lexsort((rank[account], when.view(np.int64)))
    attack_ids = np.array([None] + [a["attack_id"] for a in attacks], dtype=object)
    events = pd.DataFrame(
        {
            "login_id": sequential_ids("LG", len(order), 9),
            "account_id": take_text(profiles["customer_id"], account[order]),
            "attempted_at": when[order],
            "ip_address": pd.array(pa.concat_arrays(ip_text).take(np.concatenate(ip_index)[order]), dtype="str"),
            "succeeded": np.concatenate(succeeded)[order],
            # Python objects (None or the attack's id), the column concatenating the frames used to give.
            "attack_id": pd.Series(attack_ids[np.concatenate(attack_of)[order] + 1], dtype=object),
        },
        copy=False,  # fresh columns of millions of rows: not copied again into blocks
    )
    return events, pd.DataFrame(attacks)


def data_access_events(seed: int, days: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff queries in office hours, plus a planted bulk export of customer data at night."""
    rng = rng_for(seed, "data_access")
    staff = np.array([f"staff{i:03d}" for i in range(1, STAFF + 1)], dtype=object)
    workdays = np.flatnonzero(days.weekday < 5)
    per_day = rng.poisson(6 * STAFF, len(workdays))
    day = np.repeat(workdays, per_day)
    n = len(day)
    frame = pd.DataFrame(
        {
            "account_id": staff[rng.integers(0, STAFF, n)],
            "accessed_at": days[day] + pd.to_timedelta(rng.integers(8 * 3600, 18 * 3600, n), "s"),
            "table_name": TABLES[rng.choice(len(TABLES), n, p=[0.35, 0.15, 0.3, 0.15, 0.05])],
            "rows_returned": np.round(rng.lognormal(6, 1.2, n)).astype(np.int64),
            "action": "query",
            "attack_id": None,
        }
    )
    insider = staff[int(rng.integers(0, STAFF))]
    start = days[int(rng.integers(len(days) // 3, len(days) - 2))] + pd.Timedelta(hours=2)
    m = 25
    bulk = pd.DataFrame(
        {
            "account_id": insider,
            "accessed_at": start + pd.to_timedelta(np.sort(rng.integers(0, 3600, m)), "s"),
            "table_name": "staging.stg_crm__customers",
            "rows_returned": rng.integers(150_000, 400_000, m),
            "action": "export",
            "attack_id": "ATK-BULK",
        }
    )
    events = pd.concat([frame, bulk], ignore_index=True).sort_values(["accessed_at", "account_id"], kind="stable")
    events = events.reset_index(drop=True)
    events.insert(0, "access_id", sequential_ids("DA", len(events), 9))
    attacks = pd.DataFrame(
        [
            {
                "attack_id": "ATK-BULK",
                "kind": "bulk_export",
                "starts_at": start,
                "ends_at": start + pd.Timedelta(hours=1),
                "source": insider,
            }
        ]
    )
    return events, attacks
