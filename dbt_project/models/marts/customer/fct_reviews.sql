with

reviews as (
    select * from {{ ref('stg_crm__reviews') }}
),

-- The review body is free text and stays in staging until it is scrubbed of personal data.
final as (
    select
        review_id,
        product_id,
        customer_id,
        order_id,
        review_date,
        reviewed_at,
        cast(rating as integer) as rating,
        rating >= 4 as is_positive,
        rating <= 2 as is_negative,
        order_id is not null as is_verified_purchase
    from reviews
)

select * from final
