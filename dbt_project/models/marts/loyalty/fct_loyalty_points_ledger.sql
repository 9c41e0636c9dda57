-- The loyalty points ledger: every movement of a member's points in time order, with the balance after
-- it. Earn and reverse come from delivered orders and received returns (int_loyalty__points_events), burn
-- and expiry from the programme's rules (int_loyalty__redemptions_and_expiries). Events at the same
-- moment are ordered earn, reverse, burn, expiry.
with

movements as (
    select * from {{ ref('int_loyalty__points_events') }}
),

rule_events as (
    select * from {{ ref('int_loyalty__redemptions_and_expiries') }}
),

unioned as (
    select
        ledger_entry_id,
        customer_id,
        event_type,
        event_at,
        event_date,
        order_id,
        return_id,
        tier_at_event,
        qualifying_delta,
        points,
        cast(0 as decimal(12, 2)) as reward_value
    from movements
    union all
    select
        ledger_entry_id,
        customer_id,
        event_type,
        event_at,
        event_date,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_string() }}) as return_id,
        cast(null as {{ dbt.type_string() }}) as tier_at_event,
        cast(0 as decimal(14, 2)) as qualifying_delta,
        points,
        reward_value
    from rule_events
),

ordered as (
    select
        *,
        case event_type when 'earn' then 1 when 'reverse' then 2 when 'burn' then 3 else 4 end as event_order
    from unioned
),

final as (
    select
        cast(ledger_entry_id as {{ dbt.type_string() }}) as ledger_entry_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(event_at as timestamp) as event_at,
        cast(event_date as date) as event_date,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(return_id as {{ dbt.type_string() }}) as return_id,
        cast(tier_at_event as {{ dbt.type_string() }}) as tier_at_event,
        cast(qualifying_delta as decimal(14, 2)) as qualifying_spend_change,
        cast(points as bigint) as points,
        cast(sum(points) over (
            partition by customer_id
            order by event_at, event_order, ledger_entry_id
            rows between unbounded preceding and current row
        ) as bigint) as balance_after,
        cast(reward_value as decimal(12, 2)) as reward_value
    from ordered
)

select * from final
