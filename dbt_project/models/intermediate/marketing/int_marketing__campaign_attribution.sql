-- Last-touch attribution of shop orders to marketing campaigns.
--   1. An order that redeemed a promo code belongs to the code's campaign (the strongest, explicit signal).
--   2. Otherwise it belongs to the campaign of the customer's most recent email click in the
--      `attribution_window_days` days (default 7) before the order:
--      touch_at in (ordered_at - N days, ordered_at].
-- Opens are not touches: an open is often registered by the mail client's image prefetch, so it says little
-- about intent, and counting it would credit email for orders the customer would have placed anyway.
-- Orders with neither touch are not attributed (no row).
-- A table, not a view: its tests and agg_campaign_performance each recomputed the last-touch search over
-- every order and email click (~7 s of a nightly run's tests at SF10).
{{ config(materialized='table') }}

{% set window_days = var('attribution_window_days', 7) %}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

redemptions as (
    select * from {{ ref('stg_marketing__promo_redemptions') }}
),

promo_codes as (
    select * from {{ ref('stg_marketing__promo_codes') }}
),

email_clicks as (
    select * from {{ ref('stg_marketing__email_events') }}
    where event_type = 'clicked'
),

-- The redemption feed is the marketing platform's record; the order's own promo code backs it up.
promo_touches as (
    select
        orders.order_id,
        promo_codes.campaign_id,
        'promo_code' as touch_type,
        coalesce(redemptions.redeemed_at, orders.ordered_at) as touch_at,
        coalesce(redemptions.promo_code, orders.promo_code) as promo_code,
        cast(null as {{ dbt.type_string() }}) as email_event_id,
        1 as touch_priority
    from orders
    left join redemptions
        on orders.order_id = redemptions.order_id
    inner join promo_codes
        on coalesce(redemptions.promo_code, orders.promo_code) = promo_codes.promo_code
),

click_touches as (
    select
        orders.order_id,
        email_clicks.campaign_id,
        'email_click' as touch_type,
        email_clicks.event_at as touch_at,
        cast(null as {{ dbt.type_string() }}) as promo_code,
        email_clicks.email_event_id,
        2 as touch_priority
    from orders
    inner join email_clicks
        on
            orders.customer_id = email_clicks.customer_id
            and orders.ordered_at >= email_clicks.event_at
            and orders.ordered_at < {{ dbt.dateadd('day', window_days, 'email_clicks.event_at') }}
),

touches as (
    select * from promo_touches
    union all
    select * from click_touches
),

ranked as (
    select
        touches.*,
        row_number() over (
            partition by touches.order_id
            order by touches.touch_priority asc, touches.touch_at desc, touches.email_event_id desc
        ) as touch_rank
    from touches
),

final as (
    select
        ranked.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.order_date,
        ranked.campaign_id,
        ranked.touch_type,
        ranked.touch_at,
        ranked.promo_code,
        ranked.email_event_id,
        {{ dbt.datediff('ranked.touch_at', 'orders.ordered_at', 'second') }} as seconds_touch_to_order, -- noqa: LT05
        orders.order_status = 'cancelled' as is_cancelled,
        orders.subtotal,
        coalesce(orders.promo_discount, 0) as promo_discount,
        orders.subtotal - coalesce(orders.promo_discount, 0) as net_revenue
    from ranked
    inner join orders
        on ranked.order_id = orders.order_id
    where ranked.touch_rank = 1
)

select * from final
