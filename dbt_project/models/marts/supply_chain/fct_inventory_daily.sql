-- Heavy fact: rebuilt by snapshot day (see macros/incremental.sql). The window filter sits on the stock
-- positions view, which is driven by the snapshot rows, so a one-day run computes one day of positions
-- (its trailing demand still reads the 27 days before it).
{{ config(
    materialized='incremental',
    tags=['daily_fact'],
    incremental_strategy=incremental_strategy(),
    unique_key='snapshot_date',
    partition_by=['snapshot_date'],
    on_schema_change='fail'
) }}

with

positions as (
    select * from {{ ref('int_supply_chain__stock_positions') }}
    where {{ incremental_window('snapshot_date') }}
),

variants as (
    select * from {{ ref('stg_pim__variants') }}
),

final as (
    select
        {{ dbt.concat([
            "cast(positions.snapshot_date as " ~ dbt.type_string() ~ ")",
            "'|'",
            "positions.warehouse_id",
            "'|'",
            "positions.sku",
        ]) }} as inventory_daily_id,
        positions.snapshot_date,
        positions.warehouse_id,
        positions.sku,
        variants.product_id,
        cast(positions.on_hand_units as integer) as on_hand_units,
        positions.on_hand_units = 0 as is_stockout,
        cast(positions.units_sold as integer) as units_sold,
        cast(positions.inbound_units as integer) as inbound_units,
        cast(positions.avg_daily_demand_28d as double) as avg_daily_demand_28d,
        cast(
            case
                when positions.avg_daily_demand_28d > 0
                    then positions.on_hand_units / positions.avg_daily_demand_28d
            end as double
        ) as days_of_cover
    from positions
    left join variants
        on positions.sku = variants.sku
)

select * from final
{{ cluster_by_day('snapshot_date') }}
