with

weather as (
    select * from {{ ref('stg_external__weather') }}
),

final as (
    select
        {{ dbt.concat([
            "region_code",
            "'-'",
            "cast(observed_on as " ~ dbt.type_string() ~ ")",
        ]) }} as weather_key,
        region_code,
        observed_on as weather_date,
        cast(temp_c as double) as temp_c,
        cast(temp_normal_c as double) as temp_normal_c,
        cast(temp_c - temp_normal_c as double) as temp_anomaly_c,
        cast(rain_mm as double) as rain_mm,
        rain_mm >= 1.0 as is_rainy_day
    from weather
)

select * from final
