with

-- The change feed holds one full profile per version; the latest version is the current profile.
latest as (
    {{ latest_per_key(
        source('crm', 'customers'),
        partition_by='customer_id',
        order_by='updated_at desc, _source_file desc, _source_line desc'
    ) }}
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
        updated_at as profile_updated_at,
        _source_file as source_file
    from latest
)

select * from renamed
