with

market_trend as (
    select * from {{ ref('stg_external__market_trend') }}
),

with_previous as (
    select
        *,
        lag(index_value) over (partition by index_name order by week_start) as previous_index_value
    from market_trend
),

final as (
    select
        {{ dbt.concat([
            "cast(week_start as " ~ dbt.type_string() ~ ")",
            "'-'",
            "index_name",
        ]) }} as market_trend_key,
        week_start,
        index_name,
        cast(index_value as double) as index_value,
        cast(previous_index_value as double) as previous_index_value,
        cast(index_value / nullif(previous_index_value, 0) - 1 as double) as week_over_week_change
    from with_previous
)

select * from final
