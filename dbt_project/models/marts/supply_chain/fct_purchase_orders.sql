-- An order still open after its expected day is late too; "now" is the last day purchase orders were
-- placed (the extract's horizon), so open orders expected after it are not late yet.
with

purchase_orders as (
    select * from {{ ref('int_supply_chain__purchase_order_receipts') }}
),

variants as (
    select * from {{ ref('stg_pim__variants') }}
),

horizon as (
    select max(ordered_on) as as_of_date
    from purchase_orders
),

final as (
    select
        purchase_orders.po_id,
        purchase_orders.supplier_id,
        purchase_orders.warehouse_id,
        purchase_orders.sku,
        variants.product_id,
        purchase_orders.ordered_on,
        purchase_orders.expected_on,
        purchase_orders.received_on,
        cast(purchase_orders.expected_lead_time_days as integer) as expected_lead_time_days,
        cast(purchase_orders.lead_time_days as integer) as lead_time_days,
        cast(purchase_orders.delay_days as integer) as delay_days,
        purchase_orders.is_received,
        coalesce(
            purchase_orders.received_on > purchase_orders.expected_on,
            horizon.as_of_date > purchase_orders.expected_on
        ) as is_late,
        cast(purchase_orders.ordered_units as integer) as units_ordered,
        cast(coalesce(purchase_orders.received_units, 0) as integer) as units_received
    from purchase_orders
    cross join horizon
    left join variants
        on purchase_orders.sku = variants.sku
)

select * from final
