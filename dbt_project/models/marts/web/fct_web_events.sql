-- Heavy fact: rebuilt by event day (see macros/incremental.sql). Session keys come from the sessionized
-- view, which numbers sessions over each visitor's whole history, so a rebuilt day keeps the keys
-- fct_sessions has.
{{ config(
    materialized='incremental',
    tags=['daily_fact'],
    incremental_strategy=incremental_strategy(),
    unique_key='event_date',
    partition_by=['event_date'],
    on_schema_change='fail'
) }}

with

events as (
    select * from {{ ref('int_web__sessionized_events') }}
    where {{ incremental_window('event_date') }}
),

final as (
    select
        event_id,
        session_key,
        visitor_id,
        cast(session_number as integer) as session_number,
        is_session_start,
        cast(seconds_since_previous_event as bigint) as seconds_since_previous_event,
        tracker_session_id,
        customer_id,
        event_type,
        cast(event_at as timestamp) as event_at,
        event_date,
        channel,
        product_id,
        order_id,
        has_search_query
    from events
)

select * from final
{{ cluster_by_day('event_date') }}
