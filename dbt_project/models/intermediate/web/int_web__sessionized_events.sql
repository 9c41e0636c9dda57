{#-
    Sessionization of the clickstream: a session is a run of one visitor's events with no gap over 30 minutes.

    Who is the visitor (checked on the SF1 data, seed 42): the tracker's session_id never spans two customers
    or two channels, and every tracker session is one burst of activity (no gap inside one reaches 30 minutes),
    so on its own it adds nothing. What it misses is a known customer coming back: ~120 tracker sessions at
    SF1 start within 30 minutes of (or overlapping) an earlier one of the same customer. Hence:
      - logged-in customer: visitor = customer_id on one channel. App and web are different clients (device,
        cookie); keyed on customer_id alone, ~60 SF1 sessions would mix both channels and break the funnel by
        channel.
      - anonymous (customer_id null): there is no cookie or device id in the feed (IP and user agent are
        personal data and are not used), so the tracker session_id is the only visitor identity we have.
    Rule: a new session starts at a visitor's first event, after a gap of more than 30 minutes, or after a
    purchase. The purchase rule closes the visit when an order is placed, so a session holds at most one order
    (without it ~20 SF1 sessions of a customer ordering twice within 30 minutes hold two orders) and the
    funnel counts one converted session per order.
    Session key: <visitor_id>-<session number>; the session number is a running count over the visitor's whole
    history, so this model reads all events (it is filtered by day downstream, in fct_web_events).
    A table, not a view like the rest of the layer: its window functions over every visitor's history ran
    again for each of its tests and for fct_web_events (a filter by day cannot pass below them), which made
    it the most expensive relation of a nightly run.
-#}

{{ config(materialized='table') }}

with

events as (
    select
        event_id,
        session_id as tracker_session_id,
        customer_id,
        case
            when customer_id is not null then {{ dbt.concat(["customer_id", "'|'", "channel"]) }}
            else session_id
        end as visitor_id,
        event_type,
        event_at,
        event_date,
        channel,
        product_id,
        order_id,
        search_query is not null as has_search_query
    from {{ ref('stg_shop__clickstream') }}
),

with_previous as (
    select
        *,
        lag(event_at) over (partition by visitor_id order by event_at, event_id) as previous_event_at,
        lag(event_type) over (partition by visitor_id order by event_at, event_id) as previous_event_type
    from events
),

gaps as (
    select
        *,
        {{ dbt.datediff('previous_event_at', 'event_at', 'second') }} as seconds_since_previous_event -- noqa: LT05
    from with_previous
),

flagged as (
    select
        *,
        case
            when previous_event_at is null then 1
            when seconds_since_previous_event > 30 * 60 then 1
            when previous_event_type = 'purchase' then 1
            else 0
        end as is_new_session
    from gaps
),

numbered as (
    select
        *,
        sum(is_new_session) over (
            partition by visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

final as (
    select
        event_id,
        {{ dbt.concat([
            "visitor_id", "'-'", "cast(session_number as " ~ dbt.type_string() ~ ")"
        ]) }} as session_key,
        visitor_id,
        session_number,
        is_new_session = 1 as is_session_start,
        seconds_since_previous_event,
        tracker_session_id,
        customer_id,
        event_type,
        event_at,
        event_date,
        channel,
        product_id,
        order_id,
        has_search_query
    from numbered
)

select * from final
