with

latest as (
    {{ latest_per_key(
        source('external', 'market_trend'),
        partition_by='week_start, index_name',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        week_start,
        index_name,
        index_value,
        _source_file as source_file
    from latest
)

select * from renamed
