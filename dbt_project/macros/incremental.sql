{#- Incremental facts are rebuilt one day-partition at a time. The strategy differs by engine: DuckDB
    deletes the window's days and inserts them again (delete+insert keyed on the date column); Spark
    overwrites the Parquet partitions (insert_overwrite). Models call
        config(materialized='incremental', incremental_strategy=incremental_strategy(),
               unique_key='<date column>', partition_by=['<date column>'], on_schema_change='fail')
    and filter their source rows with `where {{ incremental_window('<date column>') }}`. -#}
{% macro incremental_strategy() -%}
    {{ return(adapter.dispatch('incremental_strategy')()) }}
{%- endmacro %}

{% macro default__incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- The days an incremental run rebuilds. A full build takes everything. An incremental build takes the
    run window (run_window_bound: Dagster's daily partitions and backfills) widened back by
    `late_arrival_days`, or, without a window, the last `lookback_days` days already built and anything
    newer. Either way a row that lands late (an order line of day D-2 in the extract of day D) is picked up:
    day D's partitions hold rows of D-3..D, so the nightly run for D rebuilds those four days.
    `built_date_column`: the model's own day column, when the filtered source names its day otherwise. -#}
{% macro incremental_window(date_column, lookback_days=3, built_date_column=none) -%}
    {%- if is_incremental() -%}
        {%- set min_date, max_date = rebuild_window_start(), run_window_bound('max_date') -%}
        {%- if min_date is not none or max_date is not none -%}
            {{ date_column }} >= cast('{{ min_date or "1900-01-01" }}' as date)
            and {{ date_column }} <= cast('{{ max_date or "2999-12-31" }}' as date)
        {%- else -%}
            {#- The start date is looked up before the model runs and written as a literal: a scalar
                subquery on the target would stop engines pushing the filter down to the source scan. -#}
            {%- set latest = none -%}
            {%- if execute -%}
                {%- set found = run_query('select max(' ~ (built_date_column or date_column) ~ ') from ' ~ this) -%}
                {%- set latest = found.columns[0].values()[0] if found and found.rows | length > 0 else none -%}
            {%- endif -%}
            {%- if latest is none -%}
                1 = 1
            {%- else -%}
                {{ date_column }} >= {{ dbt.dateadd('day', -lookback_days, "cast('" ~ latest ~ "' as date)") }}
            {%- endif -%}
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- One end of the run window ('min_date' or 'max_date'), or none: the var when given on the command line
    (`dbt build --vars '{min_date: ..., max_date: ...}'` by hand), else the environment variable
    FUTUREMART_RUN_MIN_DATE / FUTUREMART_RUN_MAX_DATE, which Dagster sets for each invocation
    (orchestration/defs/dbt.py). Not vars there: dbt re-parses the whole project whenever the vars differ
    from its last parse, i.e. on every new day. An environment variable read only while executing (never
    while parsing: callers check `execute` or is_incremental() first) is recorded against no file, so partial
    parsing stays valid whatever the day. -#}
{% macro run_window_bound(name) -%}
    {%- set given = var(name, none) -%}
    {%- if given is none and execute -%}
        {%- set given = env_var('FUTUREMART_RUN_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {{ return(given) }}
{%- endmacro %}

{#- The first day a windowed run rebuilds: the window's first day less `late_arrival_days` (rows of those
    days may sit in the window's extracts), or none without a window start. -#}
{% macro rebuild_window_start() -%}
    {%- set min_date = run_window_bound('min_date') -%}
    {%- if min_date is none -%}
        {{ return(none) }}
    {%- endif -%}
    {#- A var given by hand may arrive as a date (YAML), the environment's as text. -#}
    {%- set first = modules.datetime.date.fromisoformat((min_date | string)[:10])
        - modules.datetime.timedelta(days=var('late_arrival_days')) -%}
    {{ return(first.isoformat()) }}
{%- endmacro %}

{#- The first day whose sessions a windowed run of the web facts may have changed: the first event day of
    any session with an event in the days the facts rebuilt (a session crossing midnight into them starts
    the day before). Sessions of earlier days have no event in the window, so they and their events stay as
    they were. `built_date_column` is the model's own day column (for the lookback without a window).
    A session's first event day is its start event's (`is_session_start`): matching only those, one per
    session, rather than every event of the history. -#}
{% macro first_rebuilt_session_day(events, built_date_column) -%}
    select min(event_date) as first_day
    from {{ events }}
    where is_session_start and session_key in (
        select rebuilt.session_key from {{ events }} as rebuilt
        where {{ incremental_window('rebuilt.event_date', built_date_column=built_date_column) }}
    )
{%- endmacro %}

{#- Order-grain models (one row per order, shipment, return) cannot be rebuilt by day: an order placed
    weeks ago is paid, shipped, returned or re-exported in today's extracts. On DuckDB they are incremental
    by key instead: a windowed run rebuilds the keys that the extracts of its days touch, i.e. the rows of
    the staging models read from the files of those days (the window less `late_arrival_days`, as for the
    daily facts: a file that lands a few days late is still read). Every other key's inputs came from
    files of other days, which the runs of those days rebuilt. A run without a window and a first build
    rebuild everything; on Spark these models are tables rebuilt whole.

    `landed_in_window(column)`: a condition true for rows read from a file of the rebuilt days, from the
    file's path (<system>/<entity>/dt=<day>/...); `1 = 1` when the model is built whole. -#}
{% macro landed_in_window(source_file_column) -%}
    {%- if rebuilds_by_key() -%}
        {%- set min_date, max_date = rebuild_window_start(), run_window_bound('max_date') -%}
        {%- set file_day -%}
            substring({{ source_file_column }}, {{ dbt.position("'/dt='", source_file_column) }} + 4, 10)
        {%- endset -%}
        {{ file_day }} >= '{{ min_date or "1900-01-01" }}' and {{ file_day }} <= '{{ max_date or "2999-12-31" }}'
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Whether a model keyed by `landed_in_window` rebuilds only some keys this run. -#}
{% macro rebuilds_by_key() -%}
    {%- set min_date, max_date = rebuild_window_start(), run_window_bound('max_date') -%}
    {{ return(is_incremental() and (min_date is not none or max_date is not none)) }}
{%- endmacro %}

{#- The keys (`key`) of the rows of `relations` (staging models with a `source_file`) read from the files of
    the rebuilt days (landed_in_window): a union of one select per relation. -#}
{% macro keys_landed_in_window(key, relations) -%}
    {%- for relation in relations %}
    select {{ key }} from {{ relation }} where {{ landed_in_window('source_file') }}
    {%- if not loop.last %}
    union
    {%- endif -%}
    {%- endfor %}
{%- endmacro %}
