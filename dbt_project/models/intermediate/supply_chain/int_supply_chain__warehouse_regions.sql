-- One row per region a warehouse ships to. The export keeps the regions as one comma-separated text
-- (e.g. 'NE,SE'); matching each known region against the comma-fenced list avoids engine-specific split
-- and explode functions and cannot confuse a code with a longer one that contains it.
with

warehouses as (
    select * from {{ ref('stg_inventory__warehouses') }}
),

regions as (
    select * from {{ ref('regions') }}
),

final as (
    select
        warehouses.warehouse_id,
        regions.region_code
    from warehouses
    inner join regions
        on
            {{ dbt.concat(["','", "replace(warehouses.served_region_codes, ' ', '')", "','"]) }}
            like {{ dbt.concat(["'%,'", "regions.region_code", "',%'"]) }}
)

select * from final
