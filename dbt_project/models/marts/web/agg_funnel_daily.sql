-- Session funnel per day and channel: how many sessions reach each step, step-to-step and overall rates.
with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

counts as (
    select
        session_date,
        channel,
        count(*) as sessions,
        sum(case when has_product_view then 1 else 0 end) as product_view_sessions,
        sum(case when has_add_to_cart then 1 else 0 end) as add_to_cart_sessions,
        sum(case when has_checkout then 1 else 0 end) as checkout_sessions,
        sum(case when is_converted then 1 else 0 end) as converted_sessions
    from sessions
    group by session_date, channel
),

final as (
    select
        {{ dbt.concat(["cast(session_date as " ~ dbt.type_string() ~ ")", "'|'", "channel"]) }} as funnel_key,
        session_date,
        channel,
        cast(sessions as bigint) as sessions,
        cast(product_view_sessions as bigint) as product_view_sessions,
        cast(add_to_cart_sessions as bigint) as add_to_cart_sessions,
        cast(checkout_sessions as bigint) as checkout_sessions,
        cast(converted_sessions as bigint) as converted_sessions,
        cast(product_view_sessions as double) / nullif(sessions, 0) as product_view_rate,
        cast(add_to_cart_sessions as double) / nullif(product_view_sessions, 0) as add_to_cart_rate,
        cast(checkout_sessions as double) / nullif(add_to_cart_sessions, 0) as checkout_rate,
        cast(converted_sessions as double) / nullif(checkout_sessions, 0) as checkout_completion_rate,
        cast(converted_sessions as double) / nullif(sessions, 0) as conversion_rate
    from counts
)

select * from final
