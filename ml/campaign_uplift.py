"""Campaign uplift from the randomized holdout: the estimand the generator plants, with a bootstrap interval.

The estimand. While a campaign runs, each order line a *treated* audience member buys brings on average
``uplift`` extra lines, bought by treated members of the same campaign (``ingestion/world/simulate.py``);
holdout members are untouched and were drawn at random from the same audience. So, over the campaign window
(order dates ``starts_on .. ends_on``)::

    E[lines per treated member] = (1 + uplift) × E[lines per holdout member]
    uplift = (treatment lines / treatment members) / (holdout lines / holdout members) - 1

a ratio of two means over members, not a conversion rate, an order count or revenue (extra lines fall
partly on members who order anyway, and their product mix is not the members' own).

The interval. Members are the unit of randomization, so they are resampled: a stratified bootstrap (each
arm resampled with replacement at its own size, ``n_resamples`` times, from a fixed seed) gives a
percentile interval of the ratio; the delta-method standard error of its logarithm is reported beside it
as a cross-check (the asset check fails when the two disagree, or when the estimate falls outside its own
interval). Nothing here reads the planted truth.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

MEMBER_LINES_TABLE = "intermediate.int_marketing__campaign_member_outcomes"
OUTPUT_TABLE = "ml.campaign_uplift"
COLUMNS = (
    "campaign_id",
    "treatment_members",
    "holdout_members",
    "treatment_lines",
    "holdout_lines",
    "treatment_lines_per_member",
    "holdout_lines_per_member",
    "uplift",
    "uplift_ci_low",
    "uplift_ci_high",
    "log_ratio_se_bootstrap",
    "log_ratio_se_delta",
    "confidence_level",
    "n_resamples",
)


@dataclass(frozen=True)
class UpliftSanity:
    """Bars of the sanity check: the bootstrap and delta-method standard errors of the log ratio must agree
    within ``se_ratio_max`` (either way), and the estimate must lie inside its own interval."""

    se_ratio_max: float = 1.5


def read_member_lines(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Audience members with their group and order lines in the window (one row per campaign × member)."""
    return con.execute(
        f"select campaign_id, customer_id, assigned_group, lines_in_window from {MEMBER_LINES_TABLE} "
        "order by campaign_id, customer_id"
    ).df()


def _campaign_rng(seed: int, campaign_id: str) -> np.random.Generator:
    # One stream per campaign, from the world seed and the id: a campaign's interval does not move when
    # another campaign is added or removed.
    digest = hashlib.sha256(f"{seed}:campaign_uplift:{campaign_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _bootstrap_means(rng: np.random.Generator, values: np.ndarray, n_resamples: int) -> np.ndarray:
    """Means of ``n_resamples`` resamples with replacement of ``values``.

    Drawn as multinomial counts over the *distinct* values, with their frequencies as probabilities: how many
    times each member is drawn is Multinomial(n, 1/n each), and summing those counts over the members that
    share a value gives Multinomial(n, share of that value), so the law of the resampled mean is exactly the
    bootstrap's. Per-member counts were an n_resamples × members matrix (2,000 × 37,000 at SF10: 29 s for
    the campaigns of a year); lines per member take a few dozen distinct values.
    """
    distinct, frequency = np.unique(values, return_counts=True)
    counts = rng.multinomial(len(values), frequency / len(values), size=n_resamples)
    return counts @ distinct / len(values)


def estimate_campaign(
    treatment: np.ndarray, holdout: np.ndarray, rng: np.random.Generator, n_resamples: int, level: float
) -> dict[str, float]:
    """Uplift of one campaign from the per-member window lines of each arm (see the module docstring)."""
    treatment, holdout = np.asarray(treatment, dtype=float), np.asarray(holdout, dtype=float)
    nan = float("nan")
    out = {
        "treatment_members": len(treatment),
        "holdout_members": len(holdout),
        "treatment_lines": float(treatment.sum()),
        "holdout_lines": float(holdout.sum()),
        "treatment_lines_per_member": float(treatment.mean()) if len(treatment) else nan,
        "holdout_lines_per_member": float(holdout.mean()) if len(holdout) else nan,
        "uplift": nan,
        "uplift_ci_low": nan,
        "uplift_ci_high": nan,
        "log_ratio_se_bootstrap": nan,
        "log_ratio_se_delta": nan,
    }
    if len(treatment) < 2 or len(holdout) < 2 or treatment.sum() == 0 or holdout.sum() == 0:
        return out  # no estimate without lines in both arms
    mt, mh = treatment.mean(), holdout.mean()
    out["uplift"] = mt / mh - 1
    out["log_ratio_se_delta"] = float(
        np.sqrt(treatment.var(ddof=1) / (len(treatment) * mt**2) + holdout.var(ddof=1) / (len(holdout) * mh**2))
    )
    boot_t = _bootstrap_means(rng, treatment, n_resamples)
    boot_h = _bootstrap_means(rng, holdout, n_resamples)
    ok = (boot_t > 0) & (boot_h > 0)
    log_ratio = np.log(boot_t[ok] / boot_h[ok])
    alpha = (1 - level) / 2
    low, high = np.quantile(log_ratio, [alpha, 1 - alpha])
    out["uplift_ci_low"] = float(np.exp(low) - 1)
    out["uplift_ci_high"] = float(np.exp(high) - 1)
    out["log_ratio_se_bootstrap"] = float(log_ratio.std(ddof=1))
    return out


def estimate_uplift(members: pd.DataFrame, seed: int, n_resamples: int, level: float = 0.95) -> pd.DataFrame:
    """One row per campaign (columns :data:`COLUMNS`) from :func:`read_member_lines`' frame."""
    rows = []
    for campaign_id, group in members.groupby("campaign_id", sort=True):
        lines = group["lines_in_window"].to_numpy(dtype=float)
        arm = group["assigned_group"].to_numpy()
        row = estimate_campaign(
            lines[arm == "treatment"],
            lines[arm == "holdout"],
            _campaign_rng(seed, str(campaign_id)),
            n_resamples,
            level,
        )
        rows.append({"campaign_id": campaign_id, **row, "confidence_level": level, "n_resamples": n_resamples})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def sanity_failures(table: pd.DataFrame, bars: UpliftSanity = UpliftSanity()) -> list[str]:
    """Why each campaign's estimate cannot be trusted (empty when all are sane): no estimate, the estimate
    outside its own interval, or bootstrap and delta-method standard errors that disagree."""
    problems = []
    for row in table.itertuples(index=False):
        if not np.isfinite([row.uplift, row.uplift_ci_low, row.uplift_ci_high]).all():
            problems.append(f"{row.campaign_id}: no estimate (an arm without members or lines)")
            continue
        if not row.uplift_ci_low <= row.uplift <= row.uplift_ci_high:
            problems.append(
                f"{row.campaign_id}: estimate {row.uplift:.3f} outside its interval "
                f"[{row.uplift_ci_low:.3f}, {row.uplift_ci_high:.3f}]"
            )
        ratio = row.log_ratio_se_bootstrap / row.log_ratio_se_delta
        if not 1 / bars.se_ratio_max <= ratio <= bars.se_ratio_max:
            problems.append(
                f"{row.campaign_id}: bootstrap standard error {row.log_ratio_se_bootstrap:.3f} vs delta method "
                f"{row.log_ratio_se_delta:.3f} (ratio {ratio:.2f}, allowed 1/{bars.se_ratio_max}..{bars.se_ratio_max})"
            )
    return problems


def run_campaign_uplift(con: duckdb.DuckDBPyConnection, seed: int, n_resamples: int) -> pd.DataFrame:
    """Estimate every campaign's uplift and (re)write :data:`OUTPUT_TABLE`; returns the table."""
    table = estimate_uplift(read_member_lines(con), seed, n_resamples)
    con.execute("create schema if not exists ml")
    con.register("campaign_uplift_frame", table)
    try:
        con.execute(f"create or replace table {OUTPUT_TABLE} as select * from campaign_uplift_frame")
    finally:
        con.unregister("campaign_uplift_frame")
    return table
