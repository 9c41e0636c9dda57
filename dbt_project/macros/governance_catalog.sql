{#- Rows of the governance catalog, read from dbt's own graph (the manifest) at run time, so the catalog
    always describes the project that built the warehouse. `sql_string` quotes a value for a VALUES list. -#}
{% macro sql_string(value) -%}
    {%- if value is none or value == '' -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        '{{ value | string | replace("'", "''") | replace('\n', ' ') }}'
    {%- endif -%}
{%- endmacro %}

{% macro catalog_nodes() %}
    {#- Models, seeds and sources, sorted for a deterministic table. -#}
    {% set nodes = [] %}
    {% for node in graph.nodes.values() if node.resource_type in ['model', 'seed'] and node.package_name == project_name %}
        {% do nodes.append(node) %}
    {% endfor %}
    {% for node in graph.sources.values() if node.package_name == project_name %}
        {% do nodes.append(node) %}
    {% endfor %}
    {{ return(nodes | sort(attribute='unique_id')) }}
{% endmacro %}

{% macro catalog_tests_by_node() %}
    {#- unique_id of the tested node -> {column name or '' -> [test names]} -#}
    {% set tests = {} %}
    {% for test in graph.nodes.values() if test.resource_type == 'test' %}
        {% set target_id = test.attached_node or (test.depends_on.nodes | last) %}
        {% set kind = (test.test_metadata.name if test.test_metadata else 'singular') %}
        {% set per_node = tests.setdefault(target_id, {}) %}
        {% do per_node.setdefault(test.column_name or '', []).append(kind) %}
    {% endfor %}
    {{ return(tests) }}
{% endmacro %}

{% macro node_meta(node) %}
    {% set meta = {} %}
    {% do meta.update(node.meta or {}) %}
    {% do meta.update((node.config or {}).get('meta', {}) or {}) %}
    {{ return(meta) }}
{% endmacro %}

{% macro column_pii(column) %}
    {% set meta = {} %}
    {% do meta.update(column.meta or {}) %}
    {% do meta.update((column.config or {}).get('meta', {}) if column.config is mapping else {}) %}
    {{ return(meta.get('pii')) }}
{% endmacro %}
