with

versions as (
    select * from {{ ref('stg_crm__customers') }}
),

-- Type 2 history: a version is valid from its own timestamp until the next version of the same
-- customer; the last version is open-ended and current.
dated as (
    select
        customer_id,
        row_number() over (partition by customer_id order by profile_updated_at) as version_number,
        profile_updated_at as valid_from,
        lead(profile_updated_at) over (partition by customer_id order by profile_updated_at) as valid_to,
        change_type,
        city,
        region_code,
        country_code,
        birth_date,
        signup_date,
        loyalty_tier
    from versions
),

final as (
    select
        {{ dbt.concat(["customer_id", "'-v'", "cast(version_number as " ~ dbt.type_string() ~ ")"]) }}
            as customer_version_key,
        customer_id,
        version_number,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        change_type,
        city,
        region_code,
        country_code,
        birth_date,
        signup_date,
        loyalty_tier
    from dated
)

select * from final
