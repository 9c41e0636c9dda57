with

variants as (
    select * from {{ ref('stg_pim__variants') }}
),

products as (
    select * from {{ ref('stg_pim__products') }}
),

channel_prices as (
    select * from {{ ref('int_product__channel_prices_pivoted') }}
),

final as (
    select
        variants.sku,
        variants.product_id,
        products.category_id,
        variants.variant_size,
        products.colour,
        variants.barcode,
        cast(channel_prices.web_price as decimal(12, 2)) as web_price,
        cast(channel_prices.app_price as decimal(12, 2)) as app_price,
        cast(channel_prices.marketplace_price as decimal(12, 2)) as marketplace_price
    from variants
    left join products
        on variants.product_id = products.product_id
    left join channel_prices
        on variants.sku = channel_prices.sku
)

select * from final
