-- Restock recommendation per warehouse × SKU at its latest snapshot, by a continuous-review (s, S) rule:
--   lead time L        = the supplier's observed mean lead time (contract lead time if none observed yet)
--   safety stock       = z × σ × sqrt(L), σ = sample stddev of daily units sold over the last 28 days
--   reorder point  s   = avg daily demand × L + safety stock
--   order-up-to    S   = s + avg daily demand × review days
--   recommended order  = ceil(S − (on hand + inbound)) when on hand + inbound ≤ s, else 0
-- z (default 1.65 ≈ 95% cycle service level) and the review days (default 28) are vars.
-- σ is the sample stddev written out from integer sums, (n·Σx² − (Σx)²) / (n(n − 1)): exact, so the
-- result does not depend on the order a parallel stddev_samp adds rows in (byte-identical reruns).
{%- set service_level_z = var('restock_service_level_z', 1.65) %}
{%- set review_days = var('restock_review_days', 28) %}

with

inventory as (
    select * from {{ ref('fct_inventory_daily') }}
),

latest as (
    select
        warehouse_id,
        sku,
        max(snapshot_date) as latest_snapshot_date
    from inventory
    group by warehouse_id, sku
),

current_stock as (
    select inventory.*
    from inventory
    inner join latest
        on
            inventory.warehouse_id = latest.warehouse_id
            and inventory.sku = latest.sku
            and inventory.snapshot_date = latest.latest_snapshot_date
),

demand_windows as (
    select
        warehouse_id,
        sku,
        latest_snapshot_date,
        cast({{ dbt.dateadd('day', -27, 'latest_snapshot_date') | trim }} as date) as window_start_date
    from latest
),

demand_spread as (
    select
        demand_windows.warehouse_id,
        demand_windows.sku,
        count(*) as day_count,
        sum(inventory.units_sold) as units_sum,
        sum(cast(inventory.units_sold as bigint) * inventory.units_sold) as units_square_sum
    from demand_windows
    inner join inventory
        on
            demand_windows.warehouse_id = inventory.warehouse_id
            and demand_windows.sku = inventory.sku
            and demand_windows.window_start_date <= inventory.snapshot_date
            and demand_windows.latest_snapshot_date >= inventory.snapshot_date
    group by demand_windows.warehouse_id, demand_windows.sku
),

products as (
    select * from {{ ref('dim_product') }}
),

suppliers as (
    select * from {{ ref('dim_supplier') }}
),

inputs as (
    select
        current_stock.warehouse_id,
        current_stock.sku,
        current_stock.product_id,
        products.supplier_id,
        current_stock.snapshot_date,
        current_stock.on_hand_units,
        current_stock.inbound_units,
        current_stock.on_hand_units + current_stock.inbound_units as inventory_position_units,
        current_stock.avg_daily_demand_28d,
        case
            when demand_spread.day_count > 1
                then sqrt(
                    cast(
                        demand_spread.day_count * demand_spread.units_square_sum
                        - demand_spread.units_sum * demand_spread.units_sum as double
                    )
                    / (demand_spread.day_count * (demand_spread.day_count - 1))
                )
            else 0
        end as demand_stddev_28d,
        coalesce(suppliers.mean_lead_time_days, suppliers.contract_lead_time_days) as lead_time_days,
        current_stock.days_of_cover
    from current_stock
    left join demand_spread
        on
            current_stock.warehouse_id = demand_spread.warehouse_id
            and current_stock.sku = demand_spread.sku
    left join products
        on current_stock.product_id = products.product_id
    left join suppliers
        on products.supplier_id = suppliers.supplier_id
),

policy as (
    select
        *,
        {{ service_level_z }} * demand_stddev_28d * sqrt(lead_time_days) as safety_stock_units,
        avg_daily_demand_28d * lead_time_days
        + {{ service_level_z }} * demand_stddev_28d * sqrt(lead_time_days) as reorder_point_units
    from inputs
),

final as (
    select
        {{ dbt.concat(["warehouse_id", "'|'", "sku"]) }} as restock_id,
        warehouse_id,
        sku,
        product_id,
        supplier_id,
        snapshot_date,
        cast(on_hand_units as integer) as on_hand_units,
        cast(inbound_units as integer) as inbound_units,
        cast(inventory_position_units as integer) as inventory_position_units,
        cast(avg_daily_demand_28d as double) as avg_daily_demand_28d,
        cast(demand_stddev_28d as double) as demand_stddev_28d,
        cast(lead_time_days as double) as lead_time_days,
        cast(safety_stock_units as double) as safety_stock_units,
        cast(reorder_point_units as double) as reorder_point_units,
        cast(reorder_point_units + avg_daily_demand_28d * {{ review_days }} as double) as order_up_to_units,
        inventory_position_units <= reorder_point_units as needs_reorder,
        cast(
            case
                when inventory_position_units <= reorder_point_units
                    then greatest(
                        0,
                        ceil(
                            reorder_point_units + avg_daily_demand_28d * {{ review_days }}
                            - inventory_position_units
                        )
                    )
                else 0
            end as integer
        ) as recommended_order_units,
        cast(days_of_cover as double) as days_of_cover
    from policy
)

select * from final
