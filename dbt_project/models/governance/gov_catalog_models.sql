{#- One row per model, seed and raw source of the project, from dbt's graph
    (see macros/governance_catalog.sql). -#}
{% set rows = [] %}
{% if execute %}
    {% set tests = catalog_tests_by_node() %}
    {% for node in catalog_nodes() %}
        {% set meta = node_meta(node) %}
        {% set node_tests = tests.get(node.unique_id, {}) %}
        {% set test_count = node_tests.values() | map('length') | sum %}
        {% set pii_columns = [] %}
        {% for column in node.columns.values() if column_pii(column) %}
            {% do pii_columns.append(column.name) %}
        {% endfor %}
        {% set layer = node.fqn[1] if node.resource_type == 'model'
            else ('raw' if node.resource_type == 'source' else 'reference') %}
        {% set owner = meta.get('owner') or (node.source_meta or {}).get('owner') %}
        {% set materialized = node.config.materialized
            if node.resource_type != 'source' else 'source table' %}
        {% set contract = node.config.get('contract', {}) if node.resource_type == 'model' else {} %}
        {% do rows.append("(" ~ [
            sql_string(node.unique_id),
            sql_string(node.resource_type),
            sql_string(node.identifier if node.resource_type == 'source' else node.name),
            sql_string(node.schema),
            sql_string(layer),
            sql_string(node.description),
            sql_string(owner),
            sql_string(meta.get('steward')),
            sql_string(materialized),
            ('true' if (contract.enforced if contract is not mapping else contract.get('enforced')) else 'false'),
            (node.columns | length) ~ '',
            (pii_columns | length) ~ '',
            sql_string(pii_columns | join(', ')),
            test_count ~ '',
            sql_string(node.original_file_path),
        ] | join(', ') ~ ")") %}
    {% endfor %}
{% endif %}

with

catalog (
    unique_id, resource_type, table_name, schema_name, layer, description, owner, steward, materialization,
    contract_enforced, documented_columns, pii_columns, pii_column_names, tests, defined_in
) as (
    {% if rows %}
        values {{ rows | join(',\n        ') }}
    {% else %}
        select
            {% for _ in range(15) %}cast(null as {{ dbt.type_string() }}){% if not loop.last %}, {% endif %}{% endfor %}
    {% endif %}
),

final as (
    select
        unique_id,
        resource_type,
        table_name,
        schema_name,
        layer,
        description,
        owner,
        steward,
        materialization,
        cast(contract_enforced as boolean) as contract_enforced,
        cast(documented_columns as integer) as documented_columns,
        cast(pii_columns as integer) as pii_columns,
        pii_column_names,
        cast(tests as integer) as tests,
        defined_in
    from catalog
)

select * from final
