-- On DuckDB incremental by shipment (see landed_in_window): a windowed run rebuilds the shipments its days'
-- extracts touched, and those of orders they touched (a re-exported order may move its region or date).
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'shipment_id',
    on_schema_change='fail'
) }}

{%- set by_key = rebuilds_by_key() %}

with

shipments as (
    select * from {{ ref('stg_shop__shipments') }}
    {% if by_key %}
        where
            {{ landed_in_window('source_file') }}
            or order_id in ({{ keys_landed_in_window('order_id', [ref('stg_shop__orders')]) }})
    {% endif %}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

joined as (
    select
        shipments.shipment_id,
        shipments.order_id,
        shipments.warehouse_id,
        shipments.carrier,
        orders.ship_region_code,
        orders.order_date,
        orders.ordered_at,
        shipments.picked_at,
        shipments.packed_at,
        shipments.shipped_at,
        shipments.delivered_at
    from shipments
    left join orders
        on shipments.order_id = orders.order_id
),

final as (
    select
        shipment_id,
        order_id,
        warehouse_id,
        carrier,
        ship_region_code,
        order_date,
        ordered_at,
        picked_at,
        cast(picked_at as date) as pick_date,
        packed_at,
        shipped_at,
        delivered_at,
        cast(
            {{ dbt.datediff('picked_at', 'packed_at', 'second') }}
            / cast(3600 as double) as double
        ) as hours_pick_to_pack,
        cast(
            {{ dbt.datediff('packed_at', 'shipped_at', 'second') }}
            / cast(3600 as double) as double
        ) as hours_pack_to_ship,
        cast(
            {{ dbt.datediff('shipped_at', 'delivered_at', 'second') }}
            / cast(3600 as double) as double
        ) as hours_ship_to_deliver,
        cast(
            {{ dbt.datediff('ordered_at', 'shipped_at', 'second') }}
            / cast(3600 as double) as double
        ) as hours_order_to_ship,
        cast(
            {{ dbt.datediff('ordered_at', 'delivered_at', 'second') }}
            / cast(3600 as double) as double
        ) as hours_order_to_deliver,
        delivered_at is not null as is_delivered
    from joined
)

select * from final
