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
    history.
    Incremental by event day, like the facts (macros/incremental.sql): a run rebuilds its window's days and
    carries each visitor's state in from the last event already built before them (time, type and session
    number), so a session crossing midnight into the window continues and the numbers go on where they
    stopped. Recomputing every visitor's history made it the most expensive relation of a nightly run (4.7 s
    of 26 s of dbt at SF1). On Spark it is a table rebuilt whole: there an insert overwrite may not read the
    table it overwrites.
-#}

{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    tags=['daily_fact'],
    incremental_strategy=incremental_strategy(),
    unique_key='event_date',
    partition_by=['event_date'],
    on_schema_change='fail'
) }}

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
    where {{ incremental_window('event_date') }}
),

{% if is_incremental() %}
-- Each visitor's state before the rebuilt days. The time and session number of the last event built both
-- grow with time: a max over the history. That event's type only counts after a gap of 30 minutes or less
-- (a purchase closes the session), so only the day before the window is searched for it. Ranking every
-- earlier event of the window's visitors instead made the model's select for a night at SF10 1.9-2.4 s
-- (1.3-1.35 s so, same rows).
    history as (
        select
            visitor_id,
            max(event_at) as carried_event_at,
            max(session_number) as carried_session_number
        from {{ this }}
        where
            event_date < (select min(events.event_date) from events)
            and visitor_id in (select events.visitor_id from events)
        group by visitor_id
    ),

    last_types as (
        select
            visitor_id,
            event_type as carried_event_type
        from (
            select
                visitor_id,
                event_type,
                row_number() over (partition by visitor_id order by event_at desc, event_id desc) as recency
            from {{ this }}
            where
                event_date = (
                    select cast({{ dbt.dateadd('day', -1, 'min(events.event_date)') }} as date) from events
                )
                and visitor_id in (select events.visitor_id from events)
        ) as last_day
        where recency = 1
    ),

    carried as (
        select
            history.visitor_id,
            history.carried_event_at,
            last_types.carried_event_type,
            history.carried_session_number
        from history
        left join last_types
            on history.visitor_id = last_types.visitor_id
    ),

    with_previous as (
        select
            events.*,
            coalesce(
                lag(events.event_at) over (partition by events.visitor_id order by events.event_at, events.event_id),
                carried.carried_event_at
            ) as previous_event_at,
            coalesce(
                lag(events.event_type) over (partition by events.visitor_id order by events.event_at, events.event_id),
                carried.carried_event_type
            ) as previous_event_type,
            coalesce(carried.carried_session_number, 0) as session_offset
        from events
        left join carried
            on events.visitor_id = carried.visitor_id
    ),
{% else %}
    with_previous as (
        select
            *,
            lag(event_at) over (partition by visitor_id order by event_at, event_id) as previous_event_at,
            lag(event_type) over (partition by visitor_id order by event_at, event_id) as previous_event_type,
            0 as session_offset
        from events
    ),
{% endif %}

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
        -- An integer, not the sum's own type: DuckDB sums into a 128-bit integer, and reading that column
        -- back (each night's carried state) cost 3.5 s of a 6.7 s model at SF10.
        cast(session_offset + sum(is_new_session) over (
            partition by visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as integer) as session_number
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
{{ cluster_by_day('event_date') }}
