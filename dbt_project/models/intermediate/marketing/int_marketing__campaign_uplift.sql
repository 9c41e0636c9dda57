-- Holdout-based uplift per campaign. Audience members are randomly split into treatment (contacted) and
-- holdout (not contacted), so the difference between the groups' outcomes during the campaign window
-- (starts_on .. ends_on, by order date) is the campaign's causal effect.
-- The generator plants the uplift on order LINES: each line a treated member buys during the campaign
-- brings `uplift` extra lines bought by treated members. The comparable estimate is therefore
-- lines_uplift_rel = treatment lines per member / holdout lines per member - 1. Conversion (any order)
-- and revenue per member are reported too, but they do not estimate the planted number: extra lines
-- fall partly on members who order anyway, and their product mix differs from the members' own.
-- Outcomes count every order placed (demand); revenue counts non-cancelled orders, net of promo discounts.

with

member_outcomes as (
    select * from {{ ref('int_marketing__campaign_member_outcomes') }}
),

by_group as (
    select
        campaign_id,
        sum(case when assigned_group = 'treatment' then 1 else 0 end) as treatment_members,
        sum(case when assigned_group = 'holdout' then 1 else 0 end) as holdout_members,
        sum(
            case when assigned_group = 'treatment' and orders_in_window > 0 then 1 else 0 end
        ) as treatment_converted,
        sum(
            case when assigned_group = 'holdout' and orders_in_window > 0 then 1 else 0 end
        ) as holdout_converted,
        sum(case when assigned_group = 'treatment' then orders_in_window else 0 end) as treatment_orders,
        sum(case when assigned_group = 'holdout' then orders_in_window else 0 end) as holdout_orders,
        sum(case when assigned_group = 'treatment' then lines_in_window else 0 end) as treatment_lines,
        sum(case when assigned_group = 'holdout' then lines_in_window else 0 end) as holdout_lines,
        {{ exact_stddev_samp("case when assigned_group = 'treatment' then lines_in_window end") }}
            as treatment_lines_stddev,
        {{ exact_stddev_samp("case when assigned_group = 'holdout' then lines_in_window end") }}
            as holdout_lines_stddev,
        sum(
            case when assigned_group = 'treatment' then net_revenue_in_window else 0 end
        ) as treatment_revenue,
        sum(case when assigned_group = 'holdout' then net_revenue_in_window else 0 end) as holdout_revenue
    from member_outcomes
    group by campaign_id
),

rates as (
    select
        *,
        cast(treatment_converted as double) / nullif(treatment_members, 0) as treatment_conversion_rate,
        cast(holdout_converted as double) / nullif(holdout_members, 0) as holdout_conversion_rate,
        cast(treatment_orders as double) / nullif(treatment_members, 0) as treatment_orders_per_member,
        cast(holdout_orders as double) / nullif(holdout_members, 0) as holdout_orders_per_member,
        cast(treatment_lines as double) / nullif(treatment_members, 0) as treatment_lines_per_member,
        cast(holdout_lines as double) / nullif(holdout_members, 0) as holdout_lines_per_member,
        cast(treatment_revenue as double) / nullif(treatment_members, 0) as treatment_revenue_per_member,
        cast(holdout_revenue as double) / nullif(holdout_members, 0) as holdout_revenue_per_member
    from by_group
),

uplift as (
    select
        *,
        treatment_conversion_rate - holdout_conversion_rate as conversion_uplift_abs,
        treatment_conversion_rate / nullif(holdout_conversion_rate, 0) - 1 as conversion_uplift_rel,
        treatment_lines_per_member - holdout_lines_per_member as lines_uplift_abs,
        treatment_lines_per_member / nullif(holdout_lines_per_member, 0) - 1 as lines_uplift_rel,
        case
            when treatment_lines_per_member > 0 and holdout_lines_per_member > 0
                then ln(treatment_lines_per_member / holdout_lines_per_member)
        end as lines_log_ratio,
        -- Standard error of lines_log_ratio by the delta method (normal approximation; 95 % interval below).
        case
            when treatment_lines_per_member > 0 and holdout_lines_per_member > 0
                then sqrt(
                    treatment_lines_stddev * treatment_lines_stddev
                    / (treatment_members * treatment_lines_per_member * treatment_lines_per_member)
                    + holdout_lines_stddev * holdout_lines_stddev
                    / (holdout_members * holdout_lines_per_member * holdout_lines_per_member)
                )
        end as lines_log_ratio_se,
        treatment_revenue_per_member - holdout_revenue_per_member as revenue_uplift_abs,
        treatment_revenue_per_member / nullif(holdout_revenue_per_member, 0) - 1 as revenue_uplift_rel
    from rates
),

final as (
    select
        campaign_id,
        treatment_members,
        holdout_members,
        treatment_converted,
        holdout_converted,
        treatment_conversion_rate,
        holdout_conversion_rate,
        conversion_uplift_abs,
        conversion_uplift_rel,
        treatment_orders_per_member,
        holdout_orders_per_member,
        treatment_lines,
        holdout_lines,
        treatment_lines_per_member,
        holdout_lines_per_member,
        treatment_lines_stddev,
        holdout_lines_stddev,
        lines_uplift_abs,
        lines_uplift_rel,
        exp(lines_log_ratio - 1.96 * lines_log_ratio_se) - 1 as lines_uplift_rel_ci_low,
        exp(lines_log_ratio + 1.96 * lines_log_ratio_se) - 1 as lines_uplift_rel_ci_high,
        lines_uplift_abs * treatment_members as incremental_lines,
        treatment_revenue,
        holdout_revenue,
        treatment_revenue_per_member,
        holdout_revenue_per_member,
        revenue_uplift_abs,
        revenue_uplift_rel,
        revenue_uplift_abs * treatment_members as incremental_revenue
    from uplift
)

select * from final
