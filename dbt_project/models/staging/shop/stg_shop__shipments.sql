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
