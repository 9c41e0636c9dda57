-- A table kept up to date by key (latest_copies): the order-grain marts, their intermediate models and
-- the tests read it many times a run, and a night's extracts touch a few thousand of its keys.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'order_id',
    on_schema_change='fail',
    pre_hook=[] if target.type == 'spark' else [
        "{{ drop_vanished_copies(source('shop', 'order_lines'), 'order_id') }}"
    ]
) }}

with

latest as (
    {{ latest_copies(
        source('shop', 'order_lines'),
        key='order_id',
        partition_by='order_id, line_number'
    ) }}
),

renamed as (
    select
        order_id,
        line_number,
        product_id,
        sku,
        quantity,
        unit_price,
        discount as discount_amount,
        line_amount,
        _source_file as source_file,
        _loaded_at as loaded_at
    from latest
)

select * from renamed
