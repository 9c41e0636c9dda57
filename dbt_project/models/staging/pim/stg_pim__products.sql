with

source as (
    select * from {{ source('pim', 'products') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by product_id
            order by _source_file desc, _source_line desc
        ) as export_rank
    from source
),

renamed as (
    select
        product_id,
        sku,
        product_name,
        brand,
        category_id,
        list_price,
        unit_cost,
        launched_on,
        is_active,
        _source_file as source_file
    from latest
    where export_rank = 1
)

select * from renamed
