with

latest as (
    {{ latest_per_key(
        source('crm', 'consents'),
        partition_by='customer_id, channel, recorded_at',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        {{ dbt.concat([
            "customer_id", "'|'", "channel", "'|'",
            "cast(recorded_at as " ~ dbt.type_string() ~ ")",
        ]) }} as consent_event_id,
        customer_id,
        channel,
        consent_status,
        recorded_at,
        source as capture_source
    from latest
)

select * from renamed
