{#- Staging tables kept up to date by key on DuckDB (incremental, delete+insert on the key; tables rebuilt
    whole on Spark): the extracts too big, or read too often, to take the latest copy of every key on every
    build. In an SF10 nightly run the four order-grain staging tables took 8.0 s of dbt node time rebuilt
    whole and take 4.1 s kept by key; the clickstream as a view cost ~55 s.

    `latest_copies(extract, key)`: the latest copy (latest_per_key) of each key of the raw
    `extract`. A full build ranks every copy. An incremental build ranks every copy of the keys it must
    revisit: the keys with a copy loaded since the last build (the last build's own latest load again, which
    is idempotent), and the keys the table took from a file loaded again since (a corrected extract replaces
    its file's rows, so such a key may now come from an older copy: `files_loaded_since`). Every other key
    has no new copy, so its row stands. The model needs `source_file` and `loaded_at` (the raw `_source_file` and `_loaded_at`).

    A key left with no copy at all (a corrected file dropped it) has nothing to replace its row: the model's
    pre-hook `drop_vanished_copies` deletes it. -#}
{% macro latest_copies(extract, key, partition_by=none, order_by='_source_file desc, _source_line desc') %}
    {%- set latest_load = none -%}
    {%- if is_incremental() and execute -%}
        {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'loaded_at' not in built_columns or 'source_file' not in built_columns -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' was built before it was kept up to date by key (it has no loaded_at or source_file): '
                ~ 'rebuild it once with `dbt build --full-refresh --select ' ~ this.identifier ~ '`'
            ) }}
        {%- endif -%}
        {#- Looked up before the model runs and written as a literal (see incremental_window). -#}
        {%- set found = run_query('select max(loaded_at) from ' ~ this) -%}
        {%- set latest_load = found.columns[0].values()[0] if found and found.rows | length > 0 else none -%}
    {%- endif -%}
    {%- if latest_load is none -%}
        {{ latest_per_key(extract, partition_by or key, order_by) }}
    {%- else -%}
        {%- set since = "cast('" ~ latest_load ~ "' as timestamp)" -%}
        {%- set copies -%}
            (
                select * from {{ extract }}
                where {{ key }} in (
                    select reloaded.{{ key }} from {{ extract }} as reloaded
                    where reloaded._loaded_at >= {{ since }}
                    union all
                    select built.{{ key }} from {{ this }} as built
                    where built.source_file in ({{ files_loaded_since(extract, since) }})
                )
            ) as copies
        {%- endset -%}
        {{ latest_per_key(copies, partition_by or key, order_by) }}
    {%- endif -%}
{% endmacro %}

{#- Pre-hook of a model built with `latest_copies`: delete the rows taken from a file loaded again since the
    last build whose key has no copy left in the extract (the corrected file dropped it, no other file has
    it): no build would replace them. A key that still has a copy is left to the build, which revisits it.
    Nothing to do, and no statement, when no file the table took rows from was loaded again (most nights).
    Rendered just before the model runs, so `loaded_at` is still the last build's. -#}
{% macro drop_vanished_copies(extract, key) %}
    {%- if is_incremental() and execute -%}
        {%- set found = run_query('select max(loaded_at) from ' ~ this) -%}
        {%- set latest_load = found.columns[0].values()[0] if found and found.rows | length > 0 else none -%}
        {%- if latest_load is not none -%}
            {%- set since = "cast('" ~ latest_load ~ "' as timestamp)" -%}
            {%- set reloaded_files = files_loaded_since(extract, since) -%}
            {%- set touched = run_query(
                'select count(*) from ' ~ this ~ ' where source_file in (' ~ reloaded_files ~ ')'
            ).columns[0].values()[0] -%}
            {%- if touched > 0 -%}
                delete from {{ this }} as built
                where
                    built.source_file in ({{ reloaded_files }})
                    and not exists (
                        select 1 from {{ extract }} as copy
                        where copy.{{ key }} = built.{{ key }}
                    )
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- The files loaded after `since` (a timestamp literal): those with rows in the raw `extract` or its
    quarantine table loaded since, and every load the loader's audit recorded since, which also names a
    corrected file that now has no row at all (a header only, or only rows of erased customers). The audit
    and the quarantine table are named, not `source()`d: Dagster maps them to the raw load's own asset, which
    the raw source already orders the model after, and refuses a model that names two sources of one asset. -#}
{% macro files_loaded_since(extract, since) -%}
    {%- set held_back = extract.incorporate(path={'schema': 'quarantine'}) -%}
    {%- set audit = extract.incorporate(path={'schema': 'governance', 'identifier': 'load_audit'}) -%}
    select loaded._source_file from {{ extract }} as loaded where loaded._loaded_at > {{ since }}
    union all
    select held._source_file from {{ held_back }} as held where held.quarantined_at > {{ since }}
    union all
    select audited.file from {{ audit }} as audited where audited.loaded_at > {{ since }}
{%- endmacro %}
