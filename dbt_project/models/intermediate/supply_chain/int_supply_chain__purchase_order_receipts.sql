-- Each purchase order with its receipt (if the goods have arrived) and its lead times.
with

purchase_orders as (
    select * from {{ ref('stg_inventory__purchase_orders') }}
),

receipts as (
    select * from {{ ref('stg_inventory__receipts') }}
),

suppliers as (
    select * from {{ ref('stg_inventory__suppliers') }}
),

joined as (
    select
        purchase_orders.po_id,
        purchase_orders.supplier_id,
        purchase_orders.warehouse_id,
        purchase_orders.sku,
        purchase_orders.ordered_on,
        purchase_orders.expected_on,
        receipts.received_on,
        purchase_orders.ordered_units,
        receipts.received_units,
        receipts.po_id is not null as is_received,
        suppliers.contract_lead_time_days
    from purchase_orders
    left join receipts
        on purchase_orders.po_id = receipts.po_id
    left join suppliers
        on purchase_orders.supplier_id = suppliers.supplier_id
),

final as (
    select
        *,
        {{ dbt.datediff('ordered_on', 'expected_on', 'day') | trim }} as expected_lead_time_days,
        {{ dbt.datediff('ordered_on', 'received_on', 'day') | trim }} as lead_time_days,
        {{ dbt.datediff('expected_on', 'received_on', 'day') | trim }} as delay_days
    from joined
)

select * from final
