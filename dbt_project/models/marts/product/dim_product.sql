with

products as (
    select * from {{ ref('stg_pim__products') }}
),

variants as (
    select
        product_id,
        count(*) as variant_count
    from {{ ref('stg_pim__variants') }}
    group by product_id
),

categories as (
    select * from {{ ref('product_categories') }}
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
        cast(coalesce(variants.variant_count, 0) as bigint) as variant_count,
        products.list_price,
        products.unit_cost,
        products.launched_on,
        products.is_active
    from products
    left join variants
        on products.product_id = variants.product_id
    left join categories
        on products.category_id = categories.category_id
)

select * from final
