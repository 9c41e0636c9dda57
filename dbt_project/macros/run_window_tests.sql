{#- Tests of a model whose meta names a `run_window_column` check only the days a partitioned run rebuilt
    (run_window_bound: vars min_date / max_date or the run's environment); a run without those vars tests every row.

    Only for models whose every test is row-local or keyed by that day (not_null, accepted values,
    relationships from the model, uniqueness of a key that includes the day): on those, the rows outside
    the window were tested by the runs that built them and did not change. Big relations only (4.7M stock
    snapshot rows at SF1): a nightly run would otherwise re-test the whole history to add one day.

    dbt's own get_where_subquery (the `where` test config), overridden for the `dbt` namespace, which
    looks in the root project first; a test's `where` still applies. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window_column = run_window_column_of_tested_model() -%}
    {#- Only a test of a windowed model reads the window, and only while executing (see run_window_bound). -#}
    {%- if window_column -%}
        {%- set min_date, max_date = run_window_bound('min_date'), run_window_bound('max_date') -%}
        {%- if min_date is not none or max_date is not none -%}
            {%- do conditions.append(
                window_column ~ " >= cast('" ~ (min_date or '1900-01-01') ~ "' as date) and "
                ~ window_column ~ " <= cast('" ~ (max_date or '2999-12-31') ~ "' as date)"
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro run_window_column_of_tested_model() -%}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- if execute and attached and attached in graph.nodes -%}
        {%- do return((graph.nodes[attached].config.meta or {}).get('run_window_column')) -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}
