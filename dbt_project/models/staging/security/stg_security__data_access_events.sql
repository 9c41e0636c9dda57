with

latest as (
    {{ latest_per_key(
        source('security', 'data_access_events'),
        partition_by='access_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        access_id,
        account_id,
        accessed_at,
        cast(accessed_at as date) as accessed_date,
        table_name,
        rows_returned,
        action as access_action,
        _source_file as source_file
    from latest
)

select * from renamed
