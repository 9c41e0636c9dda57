-- Points earned and taken back, one row per event (rules: seeds loyalty_rules and loyalty_tiers).
--   earn:    a delivered order earns floor(net merchandise spend × points per unit × tier multiplier), where
--            net merchandise spend = subtotal - promo discount (no tax, no shipping) and the tier is the one
--            the member held just before the delivery (qualifying spend of the events before it).
--   reverse: a received return takes back floor(earned points × refund / subtotal) of its order's points, so
--            the reversals of an order never exceed what it earned (refunds never exceed the subtotal).
-- Qualifying spend moves by + net merchandise spend on delivery and - refund on receipt.
-- Orders that an erasure re-keyed to an anonymous reference leave the programme: the member is gone.
-- A table, not a view like most of the layer: as a view its whole computation over every order ran again
-- for each of its tests and for each model reading it (int_loyalty__redemptions_and_expiries, the
-- ledger), the costliest part of a nightly run's dbt step after fct_orders; built once per run it costs
-- one evaluation.
{{ config(materialized='table') }}

with

rules as (
    select * from {{ ref('loyalty_rules') }}
),

tiers as (
    select * from {{ ref('loyalty_tiers') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

lifecycle as (
    select * from {{ ref('int_sales__order_lifecycle') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

earn_rate as (
    select rule_value as points_per_currency_unit
    from rules
    where rule_code = 'earn_points_per_currency_unit'
),

delivered_orders as (
    select
        orders.order_id,
        orders.customer_id,
        lifecycle.delivered_at,
        orders.subtotal,
        orders.subtotal - coalesce(orders.promo_discount, 0) as net_merchandise_amount
    from orders
    inner join lifecycle
        on orders.order_id = lifecycle.order_id
    where
        lifecycle.delivered_at is not null
        and orders.order_status != 'cancelled'
        and orders.customer_id not like 'ERASED-%'
),

received_returns as (
    select
        returns.return_id,
        returns.order_id,
        delivered_orders.customer_id,
        returns.received_at,
        returns.refund_amount
    from returns
    inner join delivered_orders
        on returns.order_id = delivered_orders.order_id
    where returns.received_at is not null
),

qualifying_moves as (
    select
        customer_id,
        'earn' as event_type,
        order_id as source_id,
        delivered_at as event_at,
        net_merchandise_amount as qualifying_delta
    from delivered_orders
    union all
    select
        customer_id,
        'reverse' as event_type,
        return_id as source_id,
        received_at as event_at,
        -refund_amount as qualifying_delta
    from received_returns
),

running_spend as (
    select
        *,
        coalesce(sum(qualifying_delta) over (
            partition by customer_id
            order by event_at, event_type, source_id
            rows between unbounded preceding and 1 preceding
        ), 0) as qualifying_spend_before
    from qualifying_moves
),

tier_at_event as (
    select
        running_spend.customer_id,
        running_spend.source_id,
        running_spend.event_type,
        max(tiers.tier_rank) as tier_rank
    from running_spend
    inner join tiers
        -- A full return of a promo order takes back more than its net spend: below zero is the entry tier.
        on greatest(running_spend.qualifying_spend_before, 0) >= tiers.min_qualifying_spend
    group by running_spend.customer_id, running_spend.source_id, running_spend.event_type
),

earned as (
    select
        delivered_orders.order_id,
        tiers.tier_code,
        cast(floor(
            delivered_orders.net_merchandise_amount
            * earn_rate.points_per_currency_unit
            * tiers.earn_multiplier
        ) as bigint) as points
    from delivered_orders
    cross join earn_rate
    inner join tier_at_event
        on
            delivered_orders.order_id = tier_at_event.source_id
            and tier_at_event.event_type = 'earn'
    inner join tiers
        on tier_at_event.tier_rank = tiers.tier_rank
),

reversed as (
    select
        received_returns.return_id,
        received_returns.order_id,
        cast(case
            when delivered_orders.subtotal > 0
                -- Rounded before the floor: the division goes through floating point, and a full refund
                -- must take back exactly the points earned (not one fewer).
                then -floor(round(
                    earned.points * received_returns.refund_amount / delivered_orders.subtotal, 6
                ))
            else 0
        end as bigint) as points
    from received_returns
    inner join delivered_orders
        on received_returns.order_id = delivered_orders.order_id
    inner join earned
        on received_returns.order_id = earned.order_id
),

events as (
    select
        running_spend.customer_id,
        running_spend.event_type,
        running_spend.source_id,
        running_spend.event_at,
        running_spend.source_id as order_id,
        cast(null as varchar) as return_id,
        running_spend.qualifying_delta,
        running_spend.qualifying_spend_before,
        earned.tier_code,
        earned.points
    from running_spend
    inner join earned
        on running_spend.source_id = earned.order_id
    where running_spend.event_type = 'earn'
    union all
    select
        running_spend.customer_id,
        running_spend.event_type,
        running_spend.source_id,
        running_spend.event_at,
        reversed.order_id,
        reversed.return_id,
        running_spend.qualifying_delta,
        running_spend.qualifying_spend_before,
        tiers.tier_code,
        reversed.points
    from running_spend
    inner join reversed
        on running_spend.source_id = reversed.return_id
    inner join tier_at_event
        on
            running_spend.source_id = tier_at_event.source_id
            and tier_at_event.event_type = 'reverse'
    inner join tiers
        on tier_at_event.tier_rank = tiers.tier_rank
    where running_spend.event_type = 'reverse'
),

final as (
    select
        {{ dbt.concat(["event_type", "'-'", "source_id"]) }} as ledger_entry_id,
        customer_id,
        event_type,
        event_at,
        cast(event_at as date) as event_date,
        order_id,
        return_id,
        tier_code as tier_at_event,
        qualifying_delta,
        qualifying_spend_before,
        points
    from events
)

select * from final
