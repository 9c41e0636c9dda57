with

source as (
    select * from {{ source('pim', 'products') }}
),

latest as (
    -- Each monthly catalog export repeats every product; the latest export describes it now.
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
    where export_rank = 1
)

select * from renamed
