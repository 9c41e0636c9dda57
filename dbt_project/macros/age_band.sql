{#- Generalized age band from a birth date at a reference date; analysts get the band, never the date. -#}
{% macro age_band(birth_date, as_of_date) -%}
    case
        when {{ birth_date }} is null then 'unknown'
        when {{ dbt.datediff(birth_date, as_of_date, 'day') }} < 25 * 365.25 then '18-24'
        when {{ dbt.datediff(birth_date, as_of_date, 'day') }} < 35 * 365.25 then '25-34'
        when {{ dbt.datediff(birth_date, as_of_date, 'day') }} < 45 * 365.25 then '35-44'
        when {{ dbt.datediff(birth_date, as_of_date, 'day') }} < 55 * 365.25 then '45-54'
        when {{ dbt.datediff(birth_date, as_of_date, 'day') }} < 65 * 365.25 then '55-64'
        else '65+'
    end
{%- endmacro %}
