{#- The raw layer on Spark. The Python loader writes raw.* and governance.load_audit into DuckDB;
    futuremart/spark.py exports every source table a model reads to Parquet under
    <raw parquet dir>/<schema>/<identifier>/. On Spark this on-run-start hook registers those folders as
    tables of the same schema and name, so `source('raw', ...)` compiles and runs unchanged on both
    engines. Dropping and re-creating each run is metadata only (external tables: the files stay) and
    picks up a changed contract. Other engines read the tables the loader wrote: nothing to do. -#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources')()) }}
{% endmacro %}

{#- An empty hook: dbt skips it. -#}
{% macro default__register_raw_sources() %}{% endmacro %}

{% macro spark__register_raw_sources() %}
    {% if execute %}
        {% set root = env_var('FUTUREMART_RAW_PARQUET_DIR', '../data/raw_parquet') %}
        {% set sources = read_sources(selected_resources) %}
        {% for schema in sources | map(attribute='schema') | unique %}
            {% do run_query('create schema if not exists ' ~ schema) %}
        {% endfor %}
        {% for source in sources %}
            {% do run_query('drop table if exists ' ~ source.schema ~ '.' ~ source.identifier) %}
            {% do run_query('create table ' ~ source.schema ~ '.' ~ source.identifier ~ ' using parquet location '
                            ~ "'" ~ root ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'") %}
        {% endfor %}
    {% endif %}
{% endmacro %}

{#- Sources some model or test depends on (declared but unread sources, such as the erasure register, may
    not exist yet); futuremart/spark.py exports the same set, read from the manifest. Given the invocation's
    selected_resources, only those the selected nodes read (each registration costs a metastore round trip). -#}
{% macro read_sources(selected=none) %}
    {% set used = [] %}
    {% for node in graph.nodes.values() if not selected or node.unique_id in selected %}
        {% for dep in node.depends_on.nodes if dep.startswith('source.') and dep not in used %}
            {% do used.append(dep) %}
        {% endfor %}
    {% endfor %}
    {% set sources = [] %}
    {% for id in used | sort %}
        {% do sources.append(graph.sources[id]) %}
    {% endfor %}
    {{ return(sources) }}
{% endmacro %}
