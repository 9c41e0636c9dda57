{#- Generic test: a combination of columns is unique (dbt_utils' unique_combination_of_columns, written
    here because the package hub is unreachable). Fails with each duplicated combination. -#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
