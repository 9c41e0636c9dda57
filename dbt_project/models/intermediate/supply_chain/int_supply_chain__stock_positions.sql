-- Stock position per day × warehouse × SKU: end-of-day units on hand, units sold that day, the trailing
-- 28-day demand and the units on open purchase orders.
--
-- Sales reach a warehouse through the order's ship region (each region is served by one warehouse).
-- Every sold unit counts, cancelled orders included: the units left the shelf when the order was taken.
--
-- Demand and inbound units come from one interval join: every sales day is an event valid for the 28
-- snapshot days it falls in the trailing window of, every purchase order an event valid from the day it
-- is placed until the day before its receipt. A snapshot row sums the events valid on its day. The join is
-- driven by the snapshot rows, so a filter on snapshot_date (an incremental run of one day) reaches the
-- snapshot scan and only the window's rows are computed.
with

snapshots as (
    select
        snapshot_date,
        warehouse_id,
        sku,
        on_hand_units
    from {{ ref('stg_inventory__stock_snapshots') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

-- The order history's first day: the trailing 28-day window of an earlier day holds fewer days of sales,
-- so its average divides by the days it does hold (a global bound: reading the first snapshot of each
-- warehouse × SKU would scan every snapshot on a one-day run).
sales_history as (
    select min(order_date) as first_sales_date
    from orders
),

warehouse_regions as (
    select * from {{ ref('int_supply_chain__warehouse_regions') }}
),

purchase_orders as (
    select * from {{ ref('int_supply_chain__purchase_order_receipts') }}
),

daily_sales as (
    select
        orders.order_date as sales_date,
        warehouse_regions.warehouse_id,
        order_lines.sku,
        sum(order_lines.quantity) as units_sold
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    inner join warehouse_regions
        on orders.ship_region_code = warehouse_regions.region_code
    group by
        orders.order_date,
        warehouse_regions.warehouse_id,
        order_lines.sku
),

events as (
    select
        warehouse_id,
        sku,
        sales_date as valid_from,
        {{ dbt.dateadd('day', 27, 'sales_date') | trim }} as valid_to,
        sales_date,
        units_sold,
        0 as inbound_units
    from daily_sales

    union all

    select
        warehouse_id,
        sku,
        ordered_on as valid_from,
        coalesce(
            {{ dbt.dateadd('day', -1, 'received_on') | trim }}, cast('2999-12-31' as date)
        ) as valid_to,
        cast(null as date) as sales_date,
        0 as units_sold,
        ordered_units as inbound_units
    from purchase_orders
),

positions as (
    select
        snapshots.snapshot_date,
        snapshots.warehouse_id,
        snapshots.sku,
        snapshots.on_hand_units,
        coalesce(sum(
            case when events.sales_date = snapshots.snapshot_date then events.units_sold else 0 end
        ), 0) as units_sold,
        coalesce(sum(events.units_sold), 0) as units_sold_28d,
        coalesce(sum(events.inbound_units), 0) as inbound_units
    from snapshots
    left join events
        on
            snapshots.warehouse_id = events.warehouse_id
            and snapshots.sku = events.sku
            and snapshots.snapshot_date >= events.valid_from
            and snapshots.snapshot_date <= events.valid_to
    group by
        snapshots.snapshot_date,
        snapshots.warehouse_id,
        snapshots.sku,
        snapshots.on_hand_units
),

with_days as (
    select
        positions.snapshot_date,
        positions.warehouse_id,
        positions.sku,
        positions.on_hand_units,
        positions.units_sold,
        positions.units_sold_28d,
        greatest(1, least(
            28,
            {{ dbt.datediff('sales_history.first_sales_date', 'positions.snapshot_date', 'day') | trim }} + 1
        )) as demand_days_28d,
        positions.inbound_units
    from positions
    cross join sales_history
),

final as (
    select
        snapshot_date,
        warehouse_id,
        sku,
        on_hand_units,
        units_sold,
        units_sold_28d,
        demand_days_28d,
        cast(units_sold_28d as double) / demand_days_28d as avg_daily_demand_28d,
        inbound_units
    from with_days
)

select * from final
