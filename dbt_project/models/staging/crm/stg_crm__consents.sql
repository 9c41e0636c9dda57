with

source as (
    select * from {{ source('crm', 'consents') }}
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by customer_id, channel, recorded_at
            order by _source_file desc, _source_line desc
        ) as export_rank
    from source
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
    from deduplicated
    where export_rank = 1
)

select * from renamed
