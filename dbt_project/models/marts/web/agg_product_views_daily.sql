-- Product engagement per day from the clickstream. Purchase events carry no product: a purchase of a
-- product is a converted session that added it to the cart (the shop's cart is the order).
with

product_events as (
    select
        events.event_date,
        events.product_id,
        events.session_key,
        events.event_type,
        sessions.is_converted
    from {{ ref('fct_web_events') }} as events
    inner join {{ ref('fct_sessions') }} as sessions
        on events.session_key = sessions.session_key
    where events.product_id is not null
),

daily as (
    select
        event_date,
        product_id,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as remove_from_carts,
        count(distinct session_key) as sessions,
        count(distinct case when event_type = 'product_view' then session_key end) as viewing_sessions,
        count(distinct case when event_type = 'add_to_cart' and is_converted then session_key end)
            as purchasing_sessions
    from product_events
    group by event_date, product_id
),

final as (
    select
        {{ dbt.concat([
            "cast(event_date as " ~ dbt.type_string() ~ ")", "'|'", "product_id"
        ]) }} as product_day_key,
        event_date,
        product_id,
        cast(product_views as bigint) as product_views,
        cast(add_to_carts as bigint) as add_to_carts,
        cast(remove_from_carts as bigint) as remove_from_carts,
        cast(sessions as bigint) as sessions,
        cast(viewing_sessions as bigint) as viewing_sessions,
        cast(purchasing_sessions as bigint) as purchasing_sessions
    from daily
)

select * from final
