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
        -- The loader replaced personal values with keyed tokens (clear values only in the pii vault): the
        -- names say so. Location is kept only as city and region; the birth date stays for the mart's age
        -- band, which needs the as-of date of the marts, and no mart selects it.
        email as email_token,
        first_name as first_name_token,
        last_name as last_name_token,
        phone as phone_token,
        street_address as street_address_token,
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
