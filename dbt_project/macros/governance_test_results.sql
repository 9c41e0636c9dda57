{#- Test results of every dbt invocation (Dagster, CI, an engineer's `dbt build`) land in
    governance.dbt_test_results, so data-quality scores can be computed from what actually ran.
    on-run-start creates the table; on-run-end appends one row per test executed. Both macros render the
    SQL the hook runs (the hook's own transaction commits it) instead of executing it while rendering. -#}
{% macro test_results_relation() -%}
    {{ return(api.Relation.create(database=target.database if target.type != 'spark' else none,
                                  schema='governance', identifier='dbt_test_results')) }}
{%- endmacro %}

{% macro create_test_results_table() %}
    {% if execute %}
        {% do adapter.create_schema(api.Relation.create(database=target.database if target.type != 'spark' else none,
                                                        schema='governance')) %}
            create table if not exists {{ test_results_relation() }} (
                invocation_id {{ dbt.type_string() }},
                test_unique_id {{ dbt.type_string() }},
                test_name {{ dbt.type_string() }},
                model_unique_id {{ dbt.type_string() }},
                model_name {{ dbt.type_string() }},
                column_name {{ dbt.type_string() }},
                severity {{ dbt.type_string() }},
                status {{ dbt.type_string() }},
                failures {{ dbt.type_bigint() }},
                execution_seconds {{ dbt.type_float() }},
                executed_at {{ dbt.type_timestamp() }}
            )
    {% endif %}
{% endmacro %}

{% macro record_test_results(results) %}
    {% if execute %}
        {% set rows = [] %}
        {% for res in results if res.node.resource_type == 'test' %}
            {% set attached = res.node.attached_node or (res.node.depends_on.nodes | first) or '' %}
            {% set model_name = attached.split('.')[-1] if attached else '' %}
            {% set row -%}
                ('{{ invocation_id }}', '{{ res.node.unique_id }}', '{{ res.node.name | replace("'", "''") }}',
                 '{{ attached }}', '{{ model_name }}',
                 {{ "'" ~ res.node.column_name | replace("'", "''") ~ "'" if res.node.column_name else 'null' }},
                 '{{ res.node.config.severity }}', '{{ res.status }}', {{ res.failures or 0 }},
                 {{ res.execution_time or 0 }}, cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}))
            {%- endset %}
            {% do rows.append(row) %}
        {% endfor %}
        {% if rows %}
            insert into {{ test_results_relation() }} values {{ rows | join(',\n') }}
        {% endif %}
    {% endif %}
{% endmacro %}
