with

-- One file per snapshot day; a re-exported day (a later file for the same key) supersedes the earlier copy.
latest as (
    {{ latest_per_key(
        source('inventory', 'stock_snapshots'),
        partition_by='snapshot_date, warehouse_id, sku',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        snapshot_date,
        warehouse_id,
        sku,
        on_hand_units,
        _source_file as source_file
    from latest
)

select * from renamed
