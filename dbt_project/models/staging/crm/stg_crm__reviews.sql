with

latest as (
    {{ latest_per_key(
        source('crm', 'reviews'),
        partition_by='review_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        review_id,
        product_id,
        customer_id,
        order_id,
        rating,
        title as review_title,
        body as review_body,
        created_at as reviewed_at,
        cast(created_at as date) as review_date,
        _source_file as source_file
    from latest
)

select * from renamed
