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
