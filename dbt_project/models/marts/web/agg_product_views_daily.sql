-- Product engagement per day from the clickstream. Purchase events carry no product: a purchase of a
-- product is a converted session that added it to the cart (the shop's cart is the order).
-- Incremental by event_date on DuckDB, as fct_sessions: rebuilt whole it re-read every event of the history
-- each night (12 s at SF10). A run rebuilds every day from the first day of a session with an event in the
-- days the facts rebuilt: those days' events, and the days whose sessions the new events may have converted.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    tags=['daily_fact'],
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'event_date',
    on_schema_change='fail'
) }}

with

{% if is_incremental() %}
    first_rebuilt_day as (
        {{ first_rebuilt_session_day(ref('fct_web_events'), 'event_date') }}
    ),
{% endif %}

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
    {% if is_incremental() %}
        and events.event_date >= (select first_rebuilt_day.first_day from first_rebuilt_day)
    {% endif %}
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
{{ cluster_by_day('event_date') }}
