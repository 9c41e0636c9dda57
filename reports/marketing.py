"""Marketing ROI report: spend, attributed and incremental revenue, ROI per campaign, uplift, email."""

from __future__ import annotations

import duckdb
import plotly.express as px

from reports.render import Chart, Headline, ReportSpec, query_frame


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    campaigns = query_frame(
        con,
        """
        select campaign_name, campaign_channel, roi, incremental_roi, lines_uplift_rel,
            lines_uplift_rel - lines_uplift_rel_ci_low as ci_minus,
            lines_uplift_rel_ci_high - lines_uplift_rel as ci_plus,
            cast(total_spend_amount as double) as total_spend
        from marts.agg_campaign_performance
        order by starts_on, campaign_name
        """,
    )
    spend = query_frame(
        con,
        """
        select date_trunc('week', spend_date) as week, ad_channel, cast(sum(spend_amount) as double) as spend
        from marts.fct_ad_spend
        group by 1, 2
        order by 1, 2
        """,
    )
    email = query_frame(
        con,
        """
        select c.campaign_name,
            cast(sum(e.unique_openers) as double) / nullif(sum(e.sends), 0) as open_rate,
            cast(sum(e.unique_clickers) as double) / nullif(sum(e.sends), 0) as click_rate
        from marts.agg_email_engagement_daily as e
        inner join marts.dim_campaign as c on e.campaign_id = c.campaign_id
        group by 1
        order by 1
        """,
    )
    return [
        Chart(
            "campaign_roi",
            "ROI per campaign: attributed vs incremental",
            px.bar(
                campaigns.melt(id_vars="campaign_name", value_vars=["roi", "incremental_roi"], var_name="measure"),
                x="campaign_name",
                y="value",
                color="measure",
                barmode="group",
                labels={"value": "ROI (× spend)", "campaign_name": "campaign"},
            ),
            "Attributed ROI credits every promo or click order to the campaign; incremental ROI counts only the "
            "revenue above the random holdout. (revenue - spend) / spend.",
        ),
        Chart(
            "uplift",
            "Uplift in order lines per member vs holdout, with 95% interval",
            px.scatter(
                campaigns,
                x="campaign_name",
                y="lines_uplift_rel",
                error_y="ci_plus",
                error_y_minus="ci_minus",
                color="campaign_channel",
                size="total_spend",
                labels={"lines_uplift_rel": "relative uplift", "campaign_name": "campaign"},
            ),
            "An interval crossing zero: no measurable effect of the campaign on its target segment.",
        ),
        Chart(
            "ad_spend",
            "Ad spend per week and channel",
            px.area(spend, x="week", y="spend", color="ad_channel", labels={"spend": "spend ($)"}),
        ),
        Chart(
            "email",
            "Email campaigns: open and click rates",
            px.bar(
                email.melt(id_vars="campaign_name", var_name="rate"),
                x="campaign_name",
                y="value",
                color="rate",
                barmode="group",
                labels={"value": "share of sends", "campaign_name": "campaign"},
            ),
            "Unique openers and clickers per day, summed, over sends.",
        ),
    ]


SPEC = ReportSpec(
    slug="marketing",
    title="Marketing ROI",
    summary="What marketing spent and what it brought back: ad spend by channel, revenue attributed to each "
    "campaign, the incremental revenue measured against each campaign's random holdout, ROI, and email "
    "engagement. From the marketing marts.",
    owner="team:marketing-analytics",
    reads=(
        "marts.agg_campaign_performance",
        "marts.fct_ad_spend",
        "marts.agg_email_engagement_daily",
        "marts.dim_campaign",
        "marts.fct_promo_redemptions",
    ),
    headlines=(
        Headline("ad_spend", "Ad spend", "select cast(sum(spend_amount) as double) from marts.fct_ad_spend", "usd"),
        Headline(
            "campaign_spend",
            "Campaign spend",
            "select cast(sum(total_spend_amount) as double) from marts.agg_campaign_performance",
            "usd",
            "ads + promo-code discounts",
        ),
        Headline(
            "attributed_revenue",
            "Attributed revenue",
            "select cast(sum(attributed_revenue) as double) from marts.agg_campaign_performance",
            "usd",
        ),
        Headline(
            "incremental_revenue",
            "Incremental revenue",
            "select cast(sum(incremental_revenue) as double) from marts.agg_campaign_performance",
            "usd",
            "above the holdouts",
        ),
        Headline(
            "portfolio_roi",
            "Attributed ROI",
            "select cast(sum(attributed_revenue) - sum(total_spend_amount) as double) "
            "/ nullif(cast(sum(total_spend_amount) as double), 0) from marts.agg_campaign_performance",
            "pct",
            "(revenue - spend) / spend, all campaigns",
        ),
        Headline(
            "portfolio_incremental_roi",
            "Incremental ROI",
            "select cast(sum(incremental_revenue) - sum(total_spend_amount) as double) "
            "/ nullif(cast(sum(total_spend_amount) as double), 0) from marts.agg_campaign_performance",
            "pct",
        ),
        Headline(
            "promo_redemptions",
            "Promo codes redeemed",
            "select count(*) from marts.fct_promo_redemptions where not is_order_cancelled",
            "count",
        ),
    ),
    charts=charts,
)
