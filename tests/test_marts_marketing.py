"""Marketing and external marts against the generator's planted truth and the raw extracts.

The session warehouse is tiny (scale 0.02: each campaign has a few dozen audience members, about a quarter
of them held out), so per-campaign uplift estimates are noisy. The uplift checks therefore test what such
samples can support: the planted uplift lies inside the mart's 95 % interval for most campaigns, and the
pooled estimate over all campaigns has the right sign and covers the planted value. In 2 x 300 random 2 %
samples of the SF1 (seed 42) audiences, the share of campaigns covered fell below 2/3, the pooled estimate
came out negative, and its 99.9 % interval missed the planted value, each in at most 0.3 % of the samples.
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow.csv as pacsv
import pytest

from futuremart.vault import connect_with_vault
from ingestion.contracts import load_contracts
from ingestion.raw_loader import landed_files

Z_999 = 3.29  # two-sided 99.9 % normal quantile


def landed_csv_rows(settings, raw_table: str) -> int:
    contract = next(c for c in load_contracts() if c.raw_table == raw_table)
    assert contract.format == "csv"
    return sum(pacsv.read_csv(f).num_rows for f in landed_files(contract, settings.landing_dir))


@pytest.fixture(scope="module")
def performance(built) -> pd.DataFrame:
    truth = pd.read_csv(built.settings.home / "truth" / "campaigns.csv").set_index("campaign_id")
    with built.connect() as con:
        mart = con.execute("select * from marts.agg_campaign_performance").df().set_index("campaign_id")
    assert sorted(mart.index) == sorted(truth.index), "one row per planted campaign"
    return mart.join(truth[["uplift"]].rename(columns={"uplift": "planted_uplift"}))


def test_planted_uplift_lies_inside_most_campaign_intervals(performance):
    defined = performance.dropna(subset=["lines_uplift_rel_ci_low", "lines_uplift_rel_ci_high"])
    # A campaign whose holdout bought nothing in the window has no ratio; most have one.
    assert len(defined) >= len(performance) / 2
    assert (defined["lines_uplift_rel_ci_low"] <= defined["lines_uplift_rel"]).all()
    assert (defined["lines_uplift_rel"] <= defined["lines_uplift_rel_ci_high"]).all()
    inside = (defined["lines_uplift_rel_ci_low"] <= defined["planted_uplift"]) & (
        defined["planted_uplift"] <= defined["lines_uplift_rel_ci_high"]
    )
    assert inside.mean() >= 2 / 3, defined[["lines_uplift_rel", "lines_uplift_rel_ci_low", "planted_uplift"]]


def test_pooled_uplift_is_positive_and_covers_the_planted_uplift(performance):
    p = performance.dropna(subset=["holdout_lines_per_member", "holdout_lines_stddev", "treatment_lines_stddev"])
    n_t, n_h = p["treatment_members"].astype(float), p["holdout_members"].astype(float)
    # Treated members' lines against what the same members would have bought at their holdout's rate.
    observed = (n_t * p["treatment_lines_per_member"]).sum()
    expected = (n_t * p["holdout_lines_per_member"]).sum()
    assert expected > 0
    estimate = observed / expected - 1
    var_observed = (n_t * p["treatment_lines_stddev"] ** 2).sum()
    var_expected = (n_t**2 * p["holdout_lines_stddev"] ** 2 / n_h).sum()
    se = math.sqrt(var_observed / observed**2 + var_expected / expected**2)
    planted = (p["planted_uplift"] * n_t * p["holdout_lines_per_member"]).sum() / expected
    low = math.exp(math.log(observed / expected) - Z_999 * se) - 1
    high = math.exp(math.log(observed / expected) + Z_999 * se) - 1
    assert estimate > 0, "treated audiences buy more than their holdouts"
    assert low <= planted <= high, (estimate, low, high, planted)


def test_email_events_reconcile_from_landed_files_to_the_mart(built):
    with built.connect() as con:
        raw = con.execute("select count(*) from raw.marketing_email_events").fetchone()[0]
        quarantined = con.execute("select count(*) from quarantine.marketing_email_events").fetchone()[0]
        assert landed_csv_rows(built.settings, "marketing_email_events") == raw + quarantined
        by_type = dict(
            con.execute(
                "select event_type, count(distinct event_id) from raw.marketing_email_events group by 1"
            ).fetchall()
        )
        sends, opens, clicks = con.execute(
            "select sum(sends), sum(opens), sum(clicks) from marts.agg_email_engagement_daily"
        ).fetchone()
    assert by_type.get("sent", 0) > 0
    assert (sends, opens, clicks) == (by_type.get("sent", 0), by_type.get("opened", 0), by_type.get("clicked", 0))


def test_redemptions_and_ad_spend_reconcile_from_raw_to_the_marts(built):
    with built.connect() as con:
        for table in ("marketing_promo_redemptions", "marketing_ad_spend"):
            raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            quarantined = con.execute(f"select count(*) from quarantine.{table}").fetchone()[0]
            assert landed_csv_rows(built.settings, table) == raw + quarantined

        raw_redemptions = con.execute(
            "select count(*), sum(discount) from (select distinct redemption_id, discount "
            "from raw.marketing_promo_redemptions)"
        ).fetchone()
        mart_redemptions = con.execute(
            "select count(*), sum(discount_amount) from marts.fct_promo_redemptions"
        ).fetchone()
        assert raw_redemptions[0] > 0
        assert mart_redemptions == raw_redemptions

        raw_spend = con.execute(
            "select count(*), sum(spend), sum(impressions), sum(clicks) from raw.marketing_ad_spend"
        ).fetchone()
        mart_spend = con.execute(
            "select count(*), sum(spend_amount), sum(impressions), sum(clicks) from marts.fct_ad_spend"
        ).fetchone()
        assert raw_spend[0] > 0
        assert mart_spend == raw_spend

        # The campaign aggregate books exactly the campaign-tagged ad spend and every promo discount.
        booked_ads, booked_promos = con.execute(
            "select sum(ad_spend_amount), sum(promo_discount_amount) from marts.agg_campaign_performance"
        ).fetchone()
        campaign_ads = con.execute(
            "select coalesce(sum(spend), 0) from raw.marketing_ad_spend where campaign_id is not null"
        ).fetchone()[0]
        assert booked_ads == campaign_ads
        assert booked_promos == raw_redemptions[1]


def test_attributed_orders_exist_once_and_promo_codes_win(built):
    with built.connect() as con:
        attributed, matched, distinct = con.execute(
            "select count(*), count(fct_orders.order_id), count(distinct a.order_id) "
            "from intermediate.int_marketing__campaign_attribution as a "
            "left join marts.fct_orders on a.order_id = fct_orders.order_id"
        ).fetchone()
        assert attributed > 0
        assert attributed == matched == distinct
        total = con.execute("select sum(attributed_orders) from marts.agg_campaign_performance").fetchone()[0]
        assert total == attributed

        # Every order that redeemed a code is credited to that code's campaign, as a promo touch.
        promo = con.execute(
            "select r.order_id, c.campaign_id as code_campaign, a.campaign_id, a.touch_type "
            "from raw.marketing_promo_redemptions as r "
            "join raw.marketing_promo_codes as c on r.promo_code = c.promo_code "
            "left join intermediate.int_marketing__campaign_attribution as a on r.order_id = a.order_id"
        ).df()
        assert len(promo) > 0
        assert (promo["campaign_id"] == promo["code_campaign"]).all()
        assert (promo["touch_type"] == "promo_code").all()

        # Every click attribution points at a click by the same customer in the 7 days before the order.
        clicks = con.execute(
            "select a.order_id, a.campaign_id, e.campaign_id as event_campaign, e.event_type, "
            "e.customer_id = a.customer_id as same_customer, "
            "extract(epoch from a.ordered_at - e.event_at) as seconds_before "
            "from intermediate.int_marketing__campaign_attribution as a "
            "left join raw.marketing_email_events as e on a.email_event_id = e.event_id "
            "where a.touch_type = 'email_click'"
        ).df()
        assert (clicks["event_type"] == "clicked").all()
        assert (clicks["event_campaign"] == clicks["campaign_id"]).all()
        assert clicks["same_customer"].all()
        assert clicks["seconds_before"].between(0, 7 * 86_400, inclusive="left").all()


def test_no_mart_column_holds_social_text_handles_or_ip_addresses(built):
    with connect_with_vault(built.settings) as con:  # the warehouse and the vault
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts' and data_type = 'VARCHAR'"
        ).fetchall()
        names = {c for _, c in columns}
        assert not names & {"ip_address", "author_handle", "mention_text", "text"}
        assert any(t == "agg_campaign_performance" for t, _ in columns)
        secrets = (
            "select text as v from raw.external_social_mentions "
            "union select clear_value from pii.external_social_mentions "  # handles (raw holds their tokens)
            "union select clear_value from pii.security_login_events"  # IP addresses
        )
        assert con.execute(f"select count(*) from ({secrets})").fetchone()[0] > 0
        leaks = [
            (table, column)
            for table, column in columns
            if con.execute(f'select count(*) from marts."{table}" where "{column}" in ({secrets})').fetchone()[0]
        ]
    assert leaks == []
