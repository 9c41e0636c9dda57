{#- Generic test: every row satisfies a SQL expression (dbt_utils' test, written here because the
    package hub is unreachable). Fails with the rows that break it. -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
