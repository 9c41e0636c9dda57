{#- Tests of a model whose meta names a `run_window_column` check only the days a partitioned run rebuilt
    (run_window_bound: vars min_date / max_date or the run's environment); a run without those vars tests every row.

    Only for models whose every test is row-local or keyed by that day (not_null, accepted values,
    relationships from the model, uniqueness of a key that includes the day) or dbt's `unique` on one
    column: on those, the rows outside the window were tested by the runs that built them and did not
    change. A `unique` on a column other than the day reads the rows of every day that share a value with
    the window's rows, so a key the window repeats from an older day still fails (a semi-join on the key:
    at SF10 0.5 s where the whole 14.5M-event table took 3-6 s). Big relations only (4.7M stock snapshot
    rows at SF1, the clickstream's events): a nightly run would otherwise re-test the whole history to add
    one day.

    A model whose rows span time (a session from its start day to its last event) also names
    `run_window_end_column`, the timestamp a row ends at: a row is in the window when it overlaps it (ends on
    or after the window's first day, starts on or before its last), so a session started the day before and
    running into the window is tested with the window's.

    dbt's own get_where_subquery (the `where` test config), overridden for the `dbt` namespace, which
    looks in the root project first; a test's `where` still applies. The relation gets an explicit alias:
    Spark would read `from t where (c)` as t aliased `where` with a column list. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window_column = run_window_column_of_tested_model() -%}
    {#- Only a test of a windowed model reads the window, and only while executing (see run_window_bound). -#}
    {%- if window_column -%}
        {#- The days the run rebuilt (incremental_window), late rows' days included. -#}
        {%- set min_date, max_date = rebuild_window_start(), run_window_bound('max_date') -%}
        {%- if min_date is not none or max_date is not none -%}
            {%- set end_column = run_window_column_of_tested_model('run_window_end_column') or window_column -%}
            {%- set starts_from = "' as timestamp)" if end_column != window_column else "' as date)" -%}
            {%- set in_window = end_column ~ " >= cast('" ~ (min_date or '1900-01-01') ~ starts_from ~ " and "
                ~ window_column ~ " <= cast('" ~ (max_date or '2999-12-31') ~ "' as date)" -%}
            {%- set key = unique_test_column() -%}
            {%- if key and key != window_column -%}
                {%- do conditions.append(
                    key ~ " in (select " ~ key ~ " from " ~ relation ~ " where " ~ in_window ~ ")"
                ) -%}
            {%- else -%}
                {%- do conditions.append(in_window) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} as dbt_tested where {{ conditions | join(' and ') }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- A run-window setting (`run_window_column` unless named) of the model the test being compiled is attached
    to, or none. -#}
{% macro run_window_column_of_tested_model(setting='run_window_column') -%}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- if execute and attached and attached in graph.nodes -%}
        {%- do return((graph.nodes[attached].config.meta or {}).get(setting)) -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}

{#- The column of the test being compiled when it is dbt's `unique` test, else none. -#}
{% macro unique_test_column() -%}
    {%- set metadata = model.get('test_metadata') if model is mapping else none -%}
    {%- if metadata and metadata.get('name') == 'unique' and not metadata.get('namespace') -%}
        {%- do return((metadata.get('kwargs') or {}).get('column_name')) -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}
