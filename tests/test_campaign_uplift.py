"""Campaign uplift from the holdout (ml.campaign_uplift): recomputed independently from the marts, graded
against the planted uplift of the small world, and the estimator's behaviour on data with a known uplift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.campaign_uplift import estimate_campaign, estimate_uplift, sanity_failures


@pytest.fixture(scope="module")
def uplift(built) -> pd.DataFrame:
    with built.connect() as con:
        return con.execute("select * from ml.campaign_uplift order by campaign_id").df().set_index("campaign_id")


def test_estimates_are_lines_per_member_ratios_from_the_marts(built, uplift) -> None:
    # Independent route: audience from staging, lines per order from marts.fct_orders.line_count.
    with built.connect() as con:
        direct = (
            con.execute(
                """
            with member_lines as (
                select a.campaign_id, a.customer_id, a.assigned_group, coalesce(sum(o.line_count), 0) as lines
                from staging.stg_marketing__campaign_audiences as a
                join marts.dim_campaign as c using (campaign_id)
                left join marts.fct_orders as o
                    on o.customer_id = a.customer_id and o.order_date between c.starts_on and c.ends_on
                group by all
            )
            select campaign_id,
                avg(lines) filter (where assigned_group = 'treatment')
                / avg(lines) filter (where assigned_group = 'holdout') - 1 as uplift
            from member_lines group by 1 order by 1
            """
            )
            .df()
            .set_index("campaign_id")
        )
        (campaigns,) = con.execute("select count(*) from marts.dim_campaign").fetchone()
    assert len(uplift) == campaigns
    np.testing.assert_allclose(uplift["uplift"], direct["uplift"].reindex(uplift.index), rtol=1e-9)


def test_intervals_hold_the_planted_uplift(built, uplift) -> None:
    # Truth is read here only (never by the pipeline). At scale 0.02 an audience has a few dozen members,
    # so the intervals are wide; a 95 % interval must still hold the planted value for most campaigns, and
    # the estimates must rank the planted effects in the right direction on average.
    planted = pd.read_csv(built.settings.truth_dir / "campaigns.csv").set_index("campaign_id")["uplift"]
    planted = planted.reindex(uplift.index)
    covered = (uplift["uplift_ci_low"] <= planted) & (planted <= uplift["uplift_ci_high"])
    assert covered.sum() >= len(uplift) - 2, uplift.assign(planted=planted)
    # A broken estimator (no effect, swapped arms) puts the interval around 0 or below it.
    assert (uplift["uplift_ci_high"] > 0).all()
    assert np.median(uplift["uplift"]) > 0.1


def test_the_blocking_check_passed(built) -> None:
    evaluations = {e.check_name: e.passed for e in built.result.get_asset_check_evaluations()}
    assert evaluations["campaign_uplift_is_sane"] is True


def test_estimator_recovers_a_known_uplift_with_calibrated_intervals() -> None:
    # Members with a heterogeneous baseline (gamma-Poisson lines, like orders of a few lines); treated
    # members' mean is multiplied by 1 + 0.4. Over 40 replications the 95 % interval must cover 0.4 in
    # 34 or more (a binomial(40, 0.95) falls below that with probability < 1 %), and the estimates centre on it.
    rng = np.random.default_rng(3)
    estimates, covered = [], 0
    for rep in range(40):
        base_t, base_h = rng.gamma(0.8, 1.5, 3000), rng.gamma(0.8, 1.5, 1000)
        treatment, holdout = rng.poisson(base_t * 1.4), rng.poisson(base_h)
        row = estimate_campaign(treatment, holdout, np.random.default_rng(rep), n_resamples=400, level=0.95)
        estimates.append(row["uplift"])
        covered += row["uplift_ci_low"] <= 0.4 <= row["uplift_ci_high"]
    assert covered >= 34
    assert abs(np.mean(estimates) - 0.4) < 0.03


def test_estimates_are_deterministic_and_sanity_catches_bad_rows() -> None:
    rng = np.random.default_rng(0)
    members = pd.DataFrame(
        {
            "campaign_id": np.repeat(["A", "B"], 400),
            "customer_id": np.arange(800).astype(str),
            "assigned_group": np.tile(np.where(np.arange(400) < 100, "holdout", "treatment"), 2),
            "lines_in_window": rng.poisson(1.5, 800),
        }
    )
    first, second = estimate_uplift(members, seed=1, n_resamples=300), estimate_uplift(members, seed=1, n_resamples=300)
    pd.testing.assert_frame_equal(first, second)
    assert sanity_failures(first) == []
    outside = first.assign(uplift=first["uplift_ci_high"] + 0.1)
    assert len(sanity_failures(outside)) == 2
    disagreeing = first.assign(log_ratio_se_delta=first["log_ratio_se_bootstrap"] * 3)
    assert len(sanity_failures(disagreeing)) == 2
    no_holdout_lines = members.assign(
        lines_in_window=np.where(members["assigned_group"] == "holdout", 0, members["lines_in_window"])
    )
    assert any("no estimate" in p for p in sanity_failures(estimate_uplift(no_holdout_lines, 1, 300)))
