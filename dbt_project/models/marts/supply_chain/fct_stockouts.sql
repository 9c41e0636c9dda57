-- Stockout windows by gaps and islands: number the stockout days of each warehouse × SKU in date order;
-- consecutive days keep the same (day number − rank), so that difference names the window.
with

inventory as (
    select * from {{ ref('fct_inventory_daily') }}
),

stockout_days as (
    select
        warehouse_id,
        sku,
        product_id,
        snapshot_date,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'snapshot_date', 'day') | trim }}
        - row_number() over (partition by warehouse_id, sku order by snapshot_date) as island_id
    from inventory
    where is_stockout
),

windows as (
    select
        warehouse_id,
        sku,
        product_id,
        island_id,
        min(snapshot_date) as start_date,
        max(snapshot_date) as end_date,
        count(*) as stockout_days,
        cast({{ dbt.dateadd('day', -1, 'min(snapshot_date)') | trim }} as date) as day_before_start
    from stockout_days
    group by warehouse_id, sku, product_id, island_id
),

last_snapshot as (
    select max(snapshot_date) as last_snapshot_date
    from inventory
),

final as (
    select
        {{ dbt.concat([
            "windows.warehouse_id",
            "'|'",
            "windows.sku",
            "'|'",
            "cast(windows.start_date as " ~ dbt.type_string() ~ ")",
        ]) }} as stockout_id,
        windows.warehouse_id,
        windows.sku,
        windows.product_id,
        windows.start_date,
        windows.end_date,
        cast(windows.stockout_days as integer) as stockout_days,
        windows.end_date = last_snapshot.last_snapshot_date as is_ongoing,
        cast(day_before.avg_daily_demand_28d as double) as avg_daily_demand_before,
        cast(windows.stockout_days * day_before.avg_daily_demand_28d as double) as lost_units_estimate
    from windows
    cross join last_snapshot
    left join inventory as day_before
        on
            windows.warehouse_id = day_before.warehouse_id
            and windows.sku = day_before.sku
            and windows.day_before_start = day_before.snapshot_date
)

select * from final
