-- A table, not a view: the order-grain marts, their intermediate models and the tests read it many times a
-- run, and as a view each read took the latest copy of every order again (SF10: 0.3-0.5 s per read).
{{ config(materialized='table') }}

with

-- A shipment is re-exported each time it reaches a milestone: the latest export carries its current state.
latest as (
    {{ latest_per_key(
        source('shop', 'shipments'),
        partition_by='shipment_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        shipment_id,
        order_id,
        warehouse_id,
        carrier,
        picked_at,
        packed_at,
        shipped_at,
        delivered_at,
        _source_file as source_file
    from latest
)

select * from renamed
