with

products as (
    select * from {{ ref('stg_pim__products') }}
),

variants as (
    select * from {{ ref('stg_pim__variants') }}
),

channel_prices as (
    select * from {{ ref('int_product__channel_prices_pivoted') }}
),

categories as (
    select * from {{ ref('product_categories') }}
),

-- Variants of a product share its channel prices in the catalog; min/max keep that visible if it changes.
per_product as (
    select
        variants.product_id,
        count(*) as variant_count,
        min(channel_prices.web_price) as web_price,
        min(channel_prices.app_price) as app_price,
        min(channel_prices.marketplace_price) as marketplace_price
    from variants
    left join channel_prices
        on variants.sku = channel_prices.sku
    group by variants.product_id
),

final as (
    select
        products.product_id,
        products.product_name,
        products.brand,
        products.category_id,
        categories.category_name,
        categories.department,
        products.colour,
        products.supplier_id,
        cast(coalesce(per_product.variant_count, 0) as bigint) as variant_count,
        products.list_price,
        cast(per_product.web_price as decimal(12, 2)) as web_price,
        cast(per_product.app_price as decimal(12, 2)) as app_price,
        cast(per_product.marketplace_price as decimal(12, 2)) as marketplace_price,
        products.unit_cost,
        products.launched_on,
        products.is_active
    from products
    left join per_product
        on products.product_id = per_product.product_id
    left join categories
        on products.category_id = categories.category_id
)

select * from final
