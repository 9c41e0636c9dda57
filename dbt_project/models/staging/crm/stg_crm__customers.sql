with

source as (
    select * from {{ source('crm', 'customers') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by _source_file desc, _source_line desc
        ) as export_rank
    from source
),

renamed as (
    select
        customer_id,
        email,
        first_name,
        last_name,
        phone,
        street_address,
        city,
        region_code,
        country_code,
        birth_date,
        signed_up_at,
        cast(signed_up_at as date) as signup_date,
        loyalty_tier,
        marketing_opt_in as has_marketing_opt_in,
        _source_file as source_file
    from latest
    where export_rank = 1
)

select * from renamed
