with

-- Warehouse master data is exported whole; the latest export describes a warehouse now.
latest as (
    {{ latest_per_key(
        source('inventory', 'warehouses'),
        partition_by='warehouse_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        warehouse_id,
        warehouse_name,
        serves_regions as served_region_codes,
        _source_file as source_file
    from latest
)

select * from renamed
