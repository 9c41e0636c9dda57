with

-- Each monthly catalog export repeats every product; the latest export describes it now.
latest as (
    {{ latest_per_key(
        source('pim', 'products'),
        partition_by='product_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        product_id,
        product_name,
        brand,
        category_id,
        colour,
        list_price,
        unit_cost,
        supplier_id,
        launched_on,
        is_active,
        _source_file as source_file
    from latest
)

select * from renamed
