with

warehouses as (
    select * from {{ ref('stg_inventory__warehouses') }}
),

served as (
    select
        warehouse_id,
        count(*) as served_region_count
    from {{ ref('int_supply_chain__warehouse_regions') }}
    group by warehouse_id
),

final as (
    select
        warehouses.warehouse_id,
        warehouses.warehouse_name,
        replace(warehouses.served_region_codes, ' ', '') as served_region_codes,
        cast(coalesce(served.served_region_count, 0) as bigint) as served_region_count
    from warehouses
    left join served
        on warehouses.warehouse_id = served.warehouse_id
)

select * from final
