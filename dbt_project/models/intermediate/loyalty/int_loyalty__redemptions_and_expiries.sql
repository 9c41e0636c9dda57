-- Points leaving the balance by rule (seed loyalty_rules), one row per event:
--   burn:   at each quarter end, whole blocks of burn_block_points become reward vouchers. Blocks already
--           converted are never converted again, so the points burned up to a quarter end are
--           block × floor(highest balance of earned and reversed points at any quarter end so far / block);
--           a quarter end can burn only when an event of that quarter raised the running balance, so the
--           member's own event quarters are the only ones to look at. Quarters not yet over burn nothing.
--   expiry: expiry_inactive_days after the last delivered order, what is left expires (burns before the
--           expiry date count, later quarter ends burn nothing).
-- The last day of data (the latest order date) decides which quarter ends and expiry dates have passed.
-- A table, not a view like most of the layer: as a view its whole computation over every order ran again
-- for each of its tests and for each model reading it (the ledger), the costliest part of a nightly run's
-- dbt step after fct_orders; built once per run it costs one evaluation.
{{ config(materialized='table') }}

with

rules as (
    select * from {{ ref('loyalty_rules') }}
),

events as (
    select * from {{ ref('int_loyalty__points_events') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

params as (
    select
        max(case when rule_code = 'burn_block_points' then rule_value end) as block_points,
        max(case when rule_code = 'burn_block_value' then rule_value end) as block_value,
        max(case when rule_code = 'expiry_inactive_days' then rule_value end) as expiry_days
    from rules
),

as_of as (
    select max(order_date) as last_data_date
    from orders
),

members as (
    select
        events.customer_id,
        max(case when events.event_type = 'earn' then events.event_date end) as last_earn_date
    from events
    group by events.customer_id
),

expiries as (
    select
        members.customer_id,
        {{ dbt.dateadd('day', 'cast(params.expiry_days as integer)', 'members.last_earn_date') }}
            as expires_on
    from members
    cross join params
),

member_quarters as (
    select distinct
        events.customer_id,
        cast({{ dbt.last_day('events.event_date', 'quarter') }} as date) as quarter_end
    from events
),

eligible_quarters as (
    select member_quarters.*
    from member_quarters
    cross join as_of
    inner join expiries
        on member_quarters.customer_id = expiries.customer_id
    where
        member_quarters.quarter_end <= as_of.last_data_date
        and (expiries.expires_on > as_of.last_data_date or member_quarters.quarter_end < expiries.expires_on)
),

balance_at_quarter_end as (
    select
        eligible_quarters.customer_id,
        eligible_quarters.quarter_end,
        sum(events.points) as points_to_date
    from eligible_quarters
    inner join events
        on
            eligible_quarters.customer_id = events.customer_id
            and eligible_quarters.quarter_end >= events.event_date
    group by eligible_quarters.customer_id, eligible_quarters.quarter_end
),

burned_to_date as (
    select
        balance_at_quarter_end.customer_id,
        balance_at_quarter_end.quarter_end,
        params.block_points * floor(
            greatest(
                max(balance_at_quarter_end.points_to_date) over (
                    partition by balance_at_quarter_end.customer_id
                    order by balance_at_quarter_end.quarter_end
                    rows between unbounded preceding and current row
                ),
                0
            ) / params.block_points
        ) as points_burned_to_date
    from balance_at_quarter_end
    cross join params
),

burns as (
    select
        customer_id,
        quarter_end,
        points_burned_to_date - coalesce(lag(points_burned_to_date) over (
            partition by customer_id order by quarter_end
        ), 0) as points_burned
    from burned_to_date
),

expiring as (
    select
        expiries.customer_id,
        expiries.expires_on,
        sum(events.points) as points_to_expiry
    from expiries
    cross join as_of
    inner join events
        on
            expiries.customer_id = events.customer_id
            and expiries.expires_on >= events.event_date
    where expiries.expires_on <= as_of.last_data_date
    group by expiries.customer_id, expiries.expires_on
),

expired as (
    select
        expiring.customer_id,
        expiring.expires_on,
        expiring.points_to_expiry - coalesce(max(burned_to_date.points_burned_to_date), 0) as points_expired
    from expiring
    left join burned_to_date
        on expiring.customer_id = burned_to_date.customer_id
    group by expiring.customer_id, expiring.expires_on, expiring.points_to_expiry
),

final as (
    select
        {{ dbt.concat([
            "'burn-'", "burns.customer_id", "'-'", dbt.cast("burns.quarter_end", dbt.type_string())
        ]) }}
            as ledger_entry_id,
        burns.customer_id,
        'burn' as event_type,
        {{ dbt.dateadd('second', '86399', dbt.cast('burns.quarter_end', dbt.type_timestamp())) }} as event_at,
        burns.quarter_end as event_date,
        cast(-burns.points_burned as bigint) as points,
        cast(burns.points_burned / params.block_points * params.block_value as decimal(12, 2)) as reward_value
    from burns
    cross join params
    where burns.points_burned > 0
    union all
    select
        {{ dbt.concat(["'expiry-'", "expired.customer_id"]) }} as ledger_entry_id,
        expired.customer_id,
        'expiry' as event_type,
        {{ dbt.dateadd('second', '86399', dbt.cast('expired.expires_on', dbt.type_timestamp())) }}
            as event_at,
        cast(expired.expires_on as date) as event_date,
        cast(-expired.points_expired as bigint) as points,
        cast(0 as decimal(12, 2)) as reward_value
    from expired
    where expired.points_expired > 0
)

select * from final
