with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

regions as (
    select * from {{ ref('regions') }}
),

consents as (
    select * from {{ ref('int_customer_consents_current') }}
),

as_of as (
    -- Ages are taken at the last day with orders, not at build time, so rebuilds are reproducible.
    select max(order_date) as as_of_date from {{ ref('stg_shop__orders') }}
),

final as (
    -- Personal data (email, names, phone, street, birth date) stays out: only generalized attributes.
    select
        customers.customer_id,
        customers.city,
        customers.region_code,
        regions.region_name,
        customers.country_code,
        {{ age_band('customers.birth_date', 'as_of.as_of_date') }} as age_band,
        customers.signup_date,
        customers.loyalty_tier,
        coalesce(consents.has_email_consent, false) as has_email_consent,
        coalesce(consents.has_push_consent, false) as has_push_consent
    from customers
    cross join as_of
    left join regions
        on customers.region_code = regions.region_code
    left join consents
        on customers.customer_id = consents.customer_id
)

select * from final
