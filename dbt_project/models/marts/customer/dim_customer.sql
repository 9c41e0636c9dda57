with

versions as (
    select * from {{ ref('int_customer__profile_versions') }}
),

regions as (
    select * from {{ ref('regions') }}
),

consents as (
    select * from {{ ref('int_customer__consents_current') }}
),

as_of as (
    -- Ages are taken at the last day with orders, not at build time, so rebuilds are reproducible.
    select max(order_date) as as_of_date from {{ ref('stg_shop__orders') }}
),

final as (
    -- Personal data (email, names, phone, street, birth date) stays out: only generalized attributes.
    select
        versions.customer_version_key,
        versions.customer_id,
        cast(versions.version_number as integer) as version_number,
        versions.valid_from,
        versions.valid_to,
        versions.is_current,
        versions.change_type,
        versions.city,
        versions.region_code,
        regions.region_name,
        versions.country_code,
        {{ age_band('versions.birth_date', 'as_of.as_of_date') }} as age_band,
        versions.signup_date,
        versions.loyalty_tier,
        coalesce(consents.has_email_consent, false) as has_email_consent,
        coalesce(consents.has_push_consent, false) as has_push_consent
    from versions
    cross join as_of
    left join regions
        on versions.region_code = regions.region_code
    left join consents
        on versions.customer_id = consents.customer_id
)

select * from final
