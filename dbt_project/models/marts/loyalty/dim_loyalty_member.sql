-- One row per loyalty member (a customer with at least one delivered order): points earned, reversed,
-- burned and expired, the balance, qualifying spend and the tier it gives (seed loyalty_tiers), the
-- vouchers received and when the balance expires without a new delivered order.
with

ledger as (
    select * from {{ ref('fct_loyalty_points_ledger') }}
),

tiers as (
    select * from {{ ref('loyalty_tiers') }}
),

rules as (
    select * from {{ ref('loyalty_rules') }}
),

expiry_days as (
    select cast(rule_value as integer) as inactive_days
    from rules
    where rule_code = 'expiry_inactive_days'
),

totals as (
    select
        customer_id,
        sum(case when event_type = 'earn' then points else 0 end) as points_earned,
        -sum(case when event_type = 'reverse' then points else 0 end) as points_reversed,
        -sum(case when event_type = 'burn' then points else 0 end) as points_burned,
        -sum(case when event_type = 'expiry' then points else 0 end) as points_expired,
        sum(points) as points_balance,
        sum(qualifying_spend_change) as qualifying_spend,
        sum(case when event_type = 'earn' then 1 else 0 end) as delivered_orders,
        sum(case when event_type = 'reverse' then 1 else 0 end) as returns_received,
        sum(reward_value) as reward_value,
        min(case when event_type = 'earn' then event_date end) as first_earn_date,
        max(case when event_type = 'earn' then event_date end) as last_earn_date,
        max(case when event_type = 'expiry' then 1 else 0 end) = 1 as is_expired
    from ledger
    group by customer_id
),

tiered as (
    select
        totals.customer_id,
        max(tiers.tier_rank) as tier_rank
    from totals
    inner join tiers
        on greatest(totals.qualifying_spend, 0) >= tiers.min_qualifying_spend
    group by totals.customer_id
),

final as (
    select
        cast(totals.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(current_tier.tier_code as {{ dbt.type_string() }}) as tier_code,
        cast(current_tier.tier_rank as integer) as tier_rank,
        cast(totals.qualifying_spend as decimal(14, 2)) as qualifying_spend,
        cast(next_tier.tier_code as {{ dbt.type_string() }}) as next_tier_code,
        cast(next_tier.min_qualifying_spend - totals.qualifying_spend as decimal(14, 2))
            as spend_to_next_tier,
        cast(totals.points_earned as bigint) as points_earned,
        cast(totals.points_reversed as bigint) as points_reversed,
        cast(totals.points_burned as bigint) as points_burned,
        cast(totals.points_expired as bigint) as points_expired,
        cast(totals.points_balance as bigint) as points_balance,
        cast(totals.reward_value as decimal(12, 2)) as reward_value,
        cast(totals.delivered_orders as bigint) as delivered_orders,
        cast(totals.returns_received as bigint) as returns_received,
        cast(totals.first_earn_date as date) as first_earn_date,
        cast(totals.last_earn_date as date) as last_earn_date,
        cast({{ dbt.dateadd('day', 'expiry_days.inactive_days', 'totals.last_earn_date') }} as date)
            as balance_expires_on,
        cast(totals.is_expired as boolean) as is_expired
    from totals
    cross join expiry_days
    inner join tiered
        on totals.customer_id = tiered.customer_id
    inner join tiers as current_tier
        on tiered.tier_rank = current_tier.tier_rank
    left join tiers as next_tier
        on tiered.tier_rank + 1 = next_tier.tier_rank
)

select * from final
