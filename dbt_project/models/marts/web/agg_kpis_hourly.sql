-- Intraday KPIs per hour and channel for the latest 7 days of clickstream data. The window ends with the
-- last day a session started (not the wall clock, not the last event: a few sessions run past the final
-- midnight and would open an almost empty day). Every hour × channel is present, zero when idle.
with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

events as (
    select * from {{ ref('fct_web_events') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

bounds as (
    select cast({{ dbt.dateadd('day', -6, 'max(session_date)') }} as timestamp) as window_start
    from sessions
),

digits as (
    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9
),

hour_offsets as (
    select hundreds.digit * 100 + tens.digit * 10 + ones.digit as hour_offset
    from digits as hundreds
    cross join digits as tens
    cross join digits as ones
    where hundreds.digit * 100 + tens.digit * 10 + ones.digit < 7 * 24
),

hours as (
    select
        cast({{ dbt.dateadd('hour', 'hour_offsets.hour_offset', 'bounds.window_start') }} as timestamp)
            as hour_start
    from hour_offsets
    cross join bounds
),

channels as (
    select channel from sessions
    union
    select channel from orders
),

spine as (
    select
        hours.hour_start,
        channels.channel
    from hours
    cross join channels
),

session_hours as (
    select
        cast({{ dbt.date_trunc('hour', 'session_started_at') }} as timestamp) as hour_start,
        channel,
        count(*) as sessions,
        sum(case when is_converted then 1 else 0 end) as converted_sessions
    from sessions
    where session_started_at >= (select bounds.window_start from bounds)
    group by 1, 2
),

event_hours as (
    select
        cast({{ dbt.date_trunc('hour', 'event_at') }} as timestamp) as hour_start,
        channel,
        count(*) as events
    from events
    where event_at >= (select bounds.window_start from bounds)
    group by 1, 2
),

order_hours as (
    select
        cast({{ dbt.date_trunc('hour', 'ordered_at') }} as timestamp) as hour_start,
        channel,
        count(*) as orders,
        sum(case when not is_cancelled then order_total else 0 end) as revenue
    from orders
    where ordered_at >= (select bounds.window_start from bounds)
    group by 1, 2
),

final as (
    select
        {{ dbt.concat([
            "cast(spine.hour_start as " ~ dbt.type_string() ~ ")", "'|'", "spine.channel"
        ]) }} as kpi_key,
        spine.hour_start,
        spine.channel,
        cast(coalesce(session_hours.sessions, 0) as bigint) as sessions,
        cast(coalesce(session_hours.converted_sessions, 0) as bigint) as converted_sessions,
        cast(coalesce(event_hours.events, 0) as bigint) as events,
        cast(coalesce(order_hours.orders, 0) as bigint) as orders,
        cast(coalesce(order_hours.revenue, 0) as decimal(14, 2)) as revenue,
        cast(session_hours.converted_sessions as double)
        / nullif(session_hours.sessions, 0) as conversion_rate
    from spine
    left join session_hours
        on spine.hour_start = session_hours.hour_start and spine.channel = session_hours.channel
    left join event_hours
        on spine.hour_start = event_hours.hour_start and spine.channel = event_hours.channel
    left join order_hours
        on spine.hour_start = order_hours.hour_start and spine.channel = order_hours.channel
)

select * from final
