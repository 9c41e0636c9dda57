-- A table, not a view: fct_orders, int_loyalty__points_events and its tests each read it, and as a view
-- each joined orders to payments, shipments and returns again (~4 s of a nightly run's tests at SF10).
-- On DuckDB incremental by order: a windowed run rebuilds the orders its days' extracts touched (see
-- landed_in_window); the nightly run otherwise re-aggregated every order's payments, parcels and returns.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'order_id',
    on_schema_change='fail'
) }}

{%- set by_key = rebuilds_by_key() %}

with

{% if by_key %}
    touched_orders as (
        {{ keys_landed_in_window('order_id', [
            ref('stg_shop__orders'), ref('stg_shop__payments'), ref('stg_shop__shipments'), ref('stg_shop__returns')
        ]) }}
    ),
{% endif %}

orders as (
    select * from {{ ref('stg_shop__orders') }}
    {% if by_key %}where order_id in (select touched_orders.order_id from touched_orders){% endif %}
),

payments as (
    select * from {{ ref('stg_shop__payments') }}
    {% if by_key %}where order_id in (select touched_orders.order_id from touched_orders){% endif %}
),

shipments as (
    select * from {{ ref('stg_shop__shipments') }}
    {% if by_key %}where order_id in (select touched_orders.order_id from touched_orders){% endif %}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
    {% if by_key %}where order_id in (select touched_orders.order_id from touched_orders){% endif %}
),

payment_events as (
    select
        order_id,
        min(case when payment_status = 'captured' then authorized_at end) as paid_at,
        max(case when payment_status = 'voided' then 1 else 0 end) = 1 as is_voided
    from payments
    group by order_id
),

-- An order may leave in several parcels: work starts with its first pick; a later milestone counts
-- only once every parcel has reached it, at the time the last one did.
shipment_events as (
    select
        order_id,
        count(*) as shipment_count,
        min(picked_at) as picked_at,
        case when count(packed_at) = count(*) then max(packed_at) end as packed_at,
        case when count(shipped_at) = count(*) then max(shipped_at) end as shipped_at,
        case when count(delivered_at) = count(*) then max(delivered_at) end as delivered_at
    from shipments
    group by order_id
),

return_events as (
    select
        order_id,
        count(*) as return_count,
        min(requested_at) as first_return_requested_at,
        sum(returned_quantity) as returned_units,
        sum(refund_amount) as refund_amount
    from returns
    group by order_id
),

joined as (
    select
        orders.order_id,
        orders.order_status,
        orders.ordered_at as placed_at,
        payment_events.paid_at,
        coalesce(payment_events.is_voided, false) as is_voided,
        coalesce(shipment_events.shipment_count, 0) as shipment_count,
        shipment_events.picked_at,
        shipment_events.packed_at,
        shipment_events.shipped_at,
        shipment_events.delivered_at,
        coalesce(return_events.return_count, 0) as return_count,
        return_events.first_return_requested_at,
        coalesce(return_events.returned_units, 0) as returned_units,
        coalesce(return_events.refund_amount, 0) as refund_amount
    from orders
    left join payment_events
        on orders.order_id = payment_events.order_id
    left join shipment_events
        on orders.order_id = shipment_events.order_id
    left join return_events
        on orders.order_id = return_events.order_id
),

-- The furthest stage the order has reached; a cancellation (by the shop, or a voided payment that was never
-- captured) overrides everything, a return request overrides delivery.
final as (
    select
        *,
        case
            when order_status = 'cancelled' or (is_voided and paid_at is null) then 'cancelled'
            when first_return_requested_at is not null then 'returned'
            when delivered_at is not null then 'delivered'
            when shipped_at is not null then 'shipped'
            when paid_at is not null then 'paid'
            else 'placed'
        end as lifecycle_stage
    from joined
)

select * from final
