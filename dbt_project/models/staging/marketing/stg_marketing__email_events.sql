with

latest as (
    {{ latest_per_key(
        source('marketing', 'email_events'),
        partition_by='event_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        event_id as email_event_id,
        campaign_id,
        customer_id,
        event_type,
        event_at,
        cast(event_at as date) as event_date,
        _source_file as source_file
    from latest
)

select * from renamed
