{#- Rows of a model rebuilt by day, written in day order: the model's last clause,
        select * from final
        {{ cluster_by_day('event_date') }}

    DuckDB stores a table in row groups of ~122,880 rows with min/max statistics per column. Written in
    day order, a day's rows fill a few row groups, which pays twice on every night:
    - a night's filters on the day (the delete of delete+insert, the tests and suites of the run's days)
      skip the row groups of other days;
    - the delete of a night's days marks deleted rows in those few row groups only. Scattered deletes leave
      a delete vector in nearly every row group, and every later checkpoint of the file (each step that
      writes after dbt, each automatic checkpoint inside dbt) reads them all back: at SF10, after one night,
      a checkpoint took 0.27-0.29 s with the web facts' deletes scattered, 0.08-0.10 s in day order.
    The sort costs the full build seconds (the two 14.5M-row web tables at SF10), once.

    Spark writes these models partitioned by the day (partition_by): nothing to sort there. -#}
{% macro cluster_by_day(date_column) -%}
    {{ return(adapter.dispatch('cluster_by_day')(date_column)) }}
{%- endmacro %}

{% macro default__cluster_by_day(date_column) -%}
    order by {{ date_column }}
{%- endmacro %}

{% macro spark__cluster_by_day(date_column) -%}
{%- endmacro %}
