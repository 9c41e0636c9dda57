-- One row per campaign: audience, holdout-based uplift, last-touch attribution and cost.
--   spend             = ad spend booked on the campaign + promo discounts granted with its codes
--   roi               = (attributed net revenue - spend) / spend
--   incremental_roi   = (incremental net revenue from the holdout comparison - spend) / spend
-- Attributed revenue counts non-cancelled attributed orders, net of promo discounts (before tax and
-- shipping).
with

campaigns as (
    select * from {{ ref('stg_marketing__campaigns') }}
),

uplift as (
    select * from {{ ref('int_marketing__campaign_uplift') }}
),

attribution as (
    select * from {{ ref('int_marketing__campaign_attribution') }}
),

ad_spend as (
    select * from {{ ref('stg_marketing__ad_spend') }}
),

redemptions as (
    select * from {{ ref('stg_marketing__promo_redemptions') }}
),

promo_codes as (
    select * from {{ ref('stg_marketing__promo_codes') }}
),

attributed as (
    select
        campaign_id,
        count(*) as attributed_orders,
        sum(case when touch_type = 'promo_code' then 1 else 0 end) as attributed_promo_orders,
        sum(case when touch_type = 'email_click' then 1 else 0 end) as attributed_click_orders,
        sum(case when is_cancelled then 0 else net_revenue end) as attributed_revenue
    from attribution
    group by campaign_id
),

campaign_ad_spend as (
    select
        campaign_id,
        sum(spend_amount) as ad_spend_amount
    from ad_spend
    where campaign_id is not null
    group by campaign_id
),

promo_cost as (
    select
        promo_codes.campaign_id,
        sum(redemptions.discount_amount) as promo_discount_amount
    from redemptions
    inner join promo_codes
        on redemptions.promo_code = promo_codes.promo_code
    group by promo_codes.campaign_id
),

joined as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_channel,
        campaigns.target_segment,
        campaigns.starts_on,
        campaigns.ends_on,
        uplift.treatment_members,
        uplift.holdout_members,
        uplift.treatment_conversion_rate,
        uplift.holdout_conversion_rate,
        uplift.conversion_uplift_abs,
        uplift.conversion_uplift_rel,
        uplift.treatment_lines_per_member,
        uplift.holdout_lines_per_member,
        uplift.treatment_lines_stddev,
        uplift.holdout_lines_stddev,
        uplift.lines_uplift_rel,
        uplift.lines_uplift_rel_ci_low,
        uplift.lines_uplift_rel_ci_high,
        uplift.treatment_revenue_per_member,
        uplift.holdout_revenue_per_member,
        uplift.revenue_uplift_abs,
        uplift.revenue_uplift_rel,
        uplift.incremental_revenue,
        coalesce(attributed.attributed_orders, 0) as attributed_orders,
        coalesce(attributed.attributed_promo_orders, 0) as attributed_promo_orders,
        coalesce(attributed.attributed_click_orders, 0) as attributed_click_orders,
        coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
        coalesce(campaign_ad_spend.ad_spend_amount, 0) as ad_spend_amount,
        coalesce(promo_cost.promo_discount_amount, 0) as promo_discount_amount,
        coalesce(campaign_ad_spend.ad_spend_amount, 0)
        + coalesce(promo_cost.promo_discount_amount, 0) as total_spend_amount
    from campaigns
    left join uplift
        on campaigns.campaign_id = uplift.campaign_id
    left join attributed
        on campaigns.campaign_id = attributed.campaign_id
    left join campaign_ad_spend
        on campaigns.campaign_id = campaign_ad_spend.campaign_id
    left join promo_cost
        on campaigns.campaign_id = promo_cost.campaign_id
),

final as (
    select
        campaign_id,
        campaign_name,
        campaign_channel,
        target_segment,
        starts_on,
        ends_on,
        cast(coalesce(treatment_members, 0) as bigint) as treatment_members,
        cast(coalesce(holdout_members, 0) as bigint) as holdout_members,
        cast(treatment_conversion_rate as double) as treatment_conversion_rate,
        cast(holdout_conversion_rate as double) as holdout_conversion_rate,
        cast(conversion_uplift_abs as double) as conversion_uplift_abs,
        cast(conversion_uplift_rel as double) as conversion_uplift_rel,
        cast(treatment_lines_per_member as double) as treatment_lines_per_member,
        cast(holdout_lines_per_member as double) as holdout_lines_per_member,
        cast(treatment_lines_stddev as double) as treatment_lines_stddev,
        cast(holdout_lines_stddev as double) as holdout_lines_stddev,
        cast(lines_uplift_rel as double) as lines_uplift_rel,
        cast(lines_uplift_rel_ci_low as double) as lines_uplift_rel_ci_low,
        cast(lines_uplift_rel_ci_high as double) as lines_uplift_rel_ci_high,
        cast(treatment_revenue_per_member as double) as treatment_revenue_per_member,
        cast(holdout_revenue_per_member as double) as holdout_revenue_per_member,
        cast(revenue_uplift_abs as double) as revenue_uplift_abs,
        cast(revenue_uplift_rel as double) as revenue_uplift_rel,
        cast(incremental_revenue as decimal(14, 2)) as incremental_revenue,
        cast(attributed_orders as bigint) as attributed_orders,
        cast(attributed_promo_orders as bigint) as attributed_promo_orders,
        cast(attributed_click_orders as bigint) as attributed_click_orders,
        cast(attributed_revenue as decimal(14, 2)) as attributed_revenue,
        cast(ad_spend_amount as decimal(14, 2)) as ad_spend_amount,
        cast(promo_discount_amount as decimal(14, 2)) as promo_discount_amount,
        cast(total_spend_amount as decimal(14, 2)) as total_spend_amount,
        cast(
            (attributed_revenue - total_spend_amount) / nullif(total_spend_amount, 0) as double
        ) as roi,
        cast(
            (incremental_revenue - total_spend_amount) / nullif(total_spend_amount, 0) as double
        ) as incremental_roi
    from joined
)

select * from final
