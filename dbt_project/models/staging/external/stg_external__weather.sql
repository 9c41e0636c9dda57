with

latest as (
    {{ latest_per_key(
        source('external', 'weather'),
        partition_by='region_code, observed_on',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        region_code,
        observed_on,
        temp_c,
        temp_normal_c,
        rain_mm,
        _source_file as source_file
    from latest
)

select * from renamed
