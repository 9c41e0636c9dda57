{#- One row per documented column of every model, seed and raw source, from dbt's graph: description,
    declared type, PII class and the tests on it (see macros/governance_catalog.sql). -#}
{% set rows = [] %}
{% if execute %}
    {% set tests = catalog_tests_by_node() %}
    {% for node in catalog_nodes() %}
        {% set node_tests = tests.get(node.unique_id, {}) %}
        {% set meta = node_meta(node) %}
        {% set owner = meta.get('owner') or (node.source_meta or {}).get('owner') %}
        {% for column in node.columns.values() %}
            {% set column_tests = node_tests.get(column.name, []) | sort %}
            {% do rows.append("(" ~ [
                sql_string(node.unique_id ~ '.' ~ column.name),
                sql_string(node.unique_id),
                sql_string(node.identifier if node.resource_type == 'source' else node.name),
                sql_string(node.schema),
                sql_string(column.name),
                sql_string(column.description),
                sql_string(column.data_type),
                sql_string(column_pii(column)),
                sql_string(owner),
                sql_string(meta.get('steward')),
                (column_tests | length) ~ '',
                sql_string(column_tests | join(', ')),
            ] | join(', ') ~ ")") %}
        {% endfor %}
    {% endfor %}
{% endif %}

with

catalog (
    column_key, unique_id, table_name, schema_name, column_name, description, declared_type, pii_class,
    owner, steward, tests, test_names
) as (
    {% if rows %}
        values {{ rows | join(',\n        ') }}
    {% else %}
        select
            {% for _ in range(12) %}cast(null as {{ dbt.type_string() }}){% if not loop.last %}, {% endif %}{% endfor %}
    {% endif %}
),

final as (
    select
        column_key,
        unique_id,
        table_name,
        schema_name,
        column_name,
        description,
        declared_type,
        pii_class,
        pii_class is not null as is_pii,
        owner,
        steward,
        cast(tests as integer) as tests,
        test_names
    from catalog
)

select * from final
