with

audit as (
    select * from {{ source('governance', 'load_audit') }}
),

per_entity as (
    select
        source_system,
        entity,
        count(*) as load_attempts,
        count(distinct file) as files_seen,
        sum(case when status = 'loaded' then 1 else 0 end) as files_loaded,
        sum(case when status = 'rejected' then 1 else 0 end) as files_rejected,
        sum(case when status = 'duplicate_file' then 1 else 0 end) as files_duplicate,
        -- a rejected file loads nothing by design: its records are all quarantined (reason file_rejected),
        -- so it reconciles like a loaded one and its keys stay explainable
        sum(case when status in ('loaded', 'rejected') then rows_in else 0 end) as rows_in,
        sum(case when status = 'loaded' then rows_loaded else 0 end) as rows_loaded,
        sum(case when status in ('loaded', 'rejected') then rows_quarantined else 0 end) as rows_quarantined,
        -- rows of customers in the erasure register, dropped by the loader on purpose (never silently)
        sum(case when status in ('loaded', 'rejected') then rows_erased else 0 end) as rows_erased,
        sum(
            case
                when
                    status in ('loaded', 'rejected')
                    and rows_in != rows_loaded + rows_quarantined + rows_erased
                    -- a rejection audited before the loader quarantined rejected records wrote nothing at all
                    -- (the Dagster check load_reconciles judges every current load as it runs)
                    and not (status = 'rejected' and rows_loaded = 0 and rows_quarantined = 0)
                    then 1
                else 0
            end
        ) as unreconciled_loads,
        max(loaded_at) as last_loaded_at
    from audit
    group by source_system, entity
),

final as (
    select
        {{ dbt.concat(["source_system", "'.'", "entity"]) }} as source_entity,
        source_system,
        entity,
        load_attempts,
        files_seen,
        files_loaded,
        files_rejected,
        files_duplicate,
        rows_in,
        rows_loaded,
        rows_quarantined,
        rows_erased,
        unreconciled_loads = 0 as is_reconciled,
        last_loaded_at
    from per_entity
)

select * from final
