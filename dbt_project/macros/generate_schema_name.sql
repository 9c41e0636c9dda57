{#- Exact schema names (staging, marts, ...) instead of dbt's <target>_<custom> prefixing:
    the warehouse is one file per environment, so the prefix only adds noise for analysts. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
