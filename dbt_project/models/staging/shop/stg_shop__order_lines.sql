with

source as (
    select * from {{ source('shop', 'order_lines') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by order_id, line_number
            order by _source_file desc, _source_line desc
        ) as export_rank
    from source
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
    where export_rank = 1
)

select * from renamed
