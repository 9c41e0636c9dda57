{#- One row per day from start_date to end_date inclusive, column `date_day`. Portable: a cross join of
    digit rows numbers the days (up to 100k), dbt.dateadd turns numbers into dates. -#}
{% macro date_spine(start_date, end_date) %}
    with digits as (
        select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
        union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
    ),

    numbers as (
        select
            d1.d + 10 * d2.d + 100 * d3.d + 1000 * d4.d + 10000 * d5.d as n
        from digits as d1
        cross join digits as d2
        cross join digits as d3
        cross join digits as d4
        cross join digits as d5
    )

    select cast({{ dbt.dateadd('day', 'n', "cast('" ~ start_date ~ "' as date)") }} as date) as date_day
    from numbers
    where n <= {{ dbt.datediff("cast('" ~ start_date ~ "' as date)", "cast('" ~ end_date ~ "' as date)", 'day') }}
{% endmacro %}

{#- ISO day of week (Monday = 1 .. Sunday = 7), the same on every engine: engines disagree on
    dayofweek/extract(dow) numbering, so count days from a known Monday (2000-01-03). -#}
{% macro iso_day_of_week(date_expr) -%}
    (mod({{ dbt.datediff("cast('2000-01-03' as date)", date_expr, 'day') }}, 7) + 1)
{%- endmacro %}
