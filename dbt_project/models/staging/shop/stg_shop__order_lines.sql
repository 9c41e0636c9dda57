-- A table, not a view: the order-grain marts, their intermediate models and the tests read it many times a
-- run, and as a view each read took the latest copy of every order again (SF10: 0.3-0.5 s per read).
{{ config(materialized='table') }}

with

latest as (
    {{ latest_per_key(
        source('shop', 'order_lines'),
        partition_by='order_id, line_number',
        order_by='_source_file desc, _source_line desc'
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
        _source_file as source_file
    from latest
)

select * from renamed
