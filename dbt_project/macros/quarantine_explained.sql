{#- Shared pieces of the *_or_quarantined tests (test_relationships_or_quarantined.sql and its siblings).

    A row that breaks a rule is "explained" when the record it needs was held back by the raw loader: its key
    is in quarantine.<table> (a malformed, incomplete or conflicting record, or any record of a file rejected
    for its columns: ingestion/raw_loader.py). Each entry of `quarantined` names
      table:  the quarantine table (a source of `quarantine`, e.g. shop_orders),
      key:    the record's fields forming the key, joined with '-' (e.g. [order_id, line_number]),
      key_sql: instead of key, a SQL expression over the quarantine table's columns (e.g. the partition day
              of its _source_file, for an aggregate by day),
      column: the tested model's expression holding that key (default: the tested column).
    Anything else that breaks the rule still fails. -#}

{% macro quarantined_key(key_fields) -%}
    {%- set parts = [] -%}
    {%- for key_field in key_fields -%}
        {%- if not loop.first %}{% do parts.append("'-'") %}{% endif -%}
        {%- do parts.append(json_field('record', key_field)) -%}
    {%- endfor -%}
    {{ parts[0] if parts | length == 1 else dbt.concat(parts) }}
{%- endmacro %}

{% macro explained_by_quarantine(quarantined, default_column) -%}
    (
    {%- for entry in quarantined %}
        {%- set key = entry['key_sql'] if 'key_sql' in entry else quarantined_key(entry['key']) %}
        {{ 'or ' if not loop.first }}{{ entry.get('column', default_column) }} in (
            select {{ key }}
            from {{ source('quarantine', entry['table']) }}
            where {{ key }} is not null
        )
    {%- endfor %}
    )
{%- endmacro %}

{#- Late-arriving parents: a source may export a row up to `late_arrival_days` (dbt var) after its own day
    (a parent order landing on D+1..D+3 after its payment landed on D). A run that stops at max_date therefore
    cannot hold every parent of its newest rows yet: rows dated within late_arrival_days of max_date are not
    judged by it. They are judged by the runs that follow (these tests read the whole model), which is where
    a parent that never arrives fails; without max_date (a plain `dbt build`) every row is judged. max_date is
    the run window's (run_window_bound: the var, or the environment Dagster sets for each invocation). -#}
{% macro awaiting_late_arrival(date_column) -%}
    {%- set max_date = run_window_bound('max_date') -%}
    {%- if date_column and max_date is not none -%}
        coalesce({{ date_column }} > {{ dbt.dateadd('day', -1 * var('late_arrival_days'),
            "cast('" ~ max_date ~ "' as date)") }}, false)
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endmacro %}
