-- A table kept up to date by key (latest_copies): the order-grain marts, their intermediate models and
-- the tests read it many times a run, and a night's extracts touch a few thousand of its keys.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'shipment_id',
    on_schema_change='fail',
    pre_hook=[] if target.type == 'spark' else [
        "{{ drop_vanished_copies(source('shop', 'shipments'), 'shipment_id') }}"
    ]
) }}

with

-- A shipment is re-exported each time it reaches a milestone: the latest export carries its current state.
latest as (
    {{ latest_copies(
        source('shop', 'shipments'),
        key='shipment_id'
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
        _source_file as source_file,
        _loaded_at as loaded_at
    from latest
)

select * from renamed
