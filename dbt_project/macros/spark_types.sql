{#- Column types in the yml files (contracts, `data_type`) are spelled the DuckDB way; Spark reads most of
    them (bigint, integer, double, decimal(p, s), date, timestamp, boolean) but wants `string` for a
    `varchar` without a length. dbt.cast is how contracts turn a data_type into SQL (get_empty_schema_sql),
    so translating here keeps every contract valid on both engines without editing them. -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type(type) }})
{%- endmacro %}

{% macro spark_type(type) -%}
    {{- 'string' if type | trim | lower in ('varchar', 'text') else type -}}
{%- endmacro %}

{#- Seeds on Spark: dbt-spark's session connection wraps each bound value in quotes without escaping
    them, so a value with an apostrophe (holidays "New Year's Day") breaks the insert, and an empty cell
    arrives as the text 'None'. Here every value is written as an escaped literal instead. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set col_name = agate_table.column_names[loop.index0] -%}
                    {%- set type = spark_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                    cast({{ spark_literal(value) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}
            {% do statements.append(sql) %}
        {% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
