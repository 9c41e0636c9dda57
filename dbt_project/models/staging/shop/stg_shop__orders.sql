with

source as (
    select * from {{ source('shop', 'orders') }}
),

latest as (
    -- A re-exported order (a later partition) supersedes the earlier copy.
    select
        *,
        row_number() over (
            partition by order_id
            order by _source_file desc, _source_line desc
        ) as export_rank
    from source
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
    where export_rank = 1
)

select * from renamed
