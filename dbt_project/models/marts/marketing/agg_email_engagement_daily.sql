-- Emails go out on a campaign's first morning; opens and clicks trickle in over the following days. The
-- daily rates therefore divide by the campaign's sends up to and including the day, so a campaign's
-- daily open (click) rates add up to its overall open (click) rate.
with

email_events as (
    select * from {{ ref('stg_marketing__email_events') }}
),

daily as (
    select
        campaign_id,
        event_date,
        sum(case when event_type = 'sent' then 1 else 0 end) as sends,
        sum(case when event_type = 'opened' then 1 else 0 end) as opens,
        sum(case when event_type = 'clicked' then 1 else 0 end) as clicks,
        count(distinct case when event_type = 'opened' then customer_id end) as unique_openers,
        count(distinct case when event_type = 'clicked' then customer_id end) as unique_clickers
    from email_events
    group by campaign_id, event_date
),

cumulative as (
    select
        *,
        sum(sends) over (
            partition by campaign_id order by event_date rows between unbounded preceding and current row
        ) as sends_to_date
    from daily
),

final as (
    select
        {{ dbt.concat([
            "campaign_id",
            "'-'",
            "cast(event_date as " ~ dbt.type_string() ~ ")",
        ]) }} as email_engagement_key,
        campaign_id,
        event_date,
        cast(sends as bigint) as sends,
        cast(opens as bigint) as opens,
        cast(clicks as bigint) as clicks,
        cast(unique_openers as bigint) as unique_openers,
        cast(unique_clickers as bigint) as unique_clickers,
        cast(sends_to_date as bigint) as sends_to_date,
        cast(opens as double) / nullif(sends_to_date, 0) as open_rate,
        cast(clicks as double) / nullif(sends_to_date, 0) as click_rate,
        cast(clicks as double) / nullif(opens, 0) as click_to_open_rate
    from cumulative
)

select * from final
