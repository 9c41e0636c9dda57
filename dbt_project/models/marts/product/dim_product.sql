with

products as (
    select * from {{ ref('stg_pim__products') }}
),

categories as (
    select * from {{ ref('product_categories') }}
),

final as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        products.brand,
        products.category_id,
        categories.category_name,
        categories.department,
        products.list_price,
        products.unit_cost,
        products.launched_on,
        products.is_active
    from products
    left join categories
        on products.category_id = categories.category_id
)

select * from final
