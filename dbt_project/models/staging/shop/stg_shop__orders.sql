-- A table kept up to date by key (latest_copies): the order-grain marts, their intermediate models and
-- the tests read it many times a run, and a night's extracts touch a few thousand of its keys.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'order_id',
    on_schema_change='fail',
    pre_hook=[] if target.type == 'spark' else [
        "{{ drop_vanished_copies(source('shop', 'orders'), 'order_id') }}"
    ]
) }}

with

-- A re-exported order (a later partition) supersedes the earlier copy.
latest as (
    {{ latest_copies(
        source('shop', 'orders'),
        key='order_id'
    ) }}
),

renamed as (
    select
        order_id,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        channel,
        status as order_status,
        currency as currency_code,
        ship_region as ship_region_code,
        subtotal,
        promo_code,
        promo_discount,
        tax as tax_amount,
        shipping_fee,
        order_total,
        _source_file as source_file,
        _loaded_at as loaded_at
    from latest
)

select * from renamed
