with

-- The change feed holds one full profile per version; a version exported twice is kept once.
versions as (
    {{ latest_per_key(
        source('crm', 'customers'),
        partition_by='customer_id, updated_at',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        customer_id,
        updated_at as profile_updated_at,
        change_type,
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
        _source_file as source_file
    from versions
)

select * from renamed
