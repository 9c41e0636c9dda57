with

customers as (
    select
        customer_id,
        signup_date
    from {{ ref('int_customer__profile_versions') }}
    where is_current
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

as_of as (
    -- Recency is measured at the last day with orders, not at build time, so rebuilds are reproducible.
    select max(order_date) as as_of_date from {{ ref('fct_orders') }}
),

per_customer as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as order_count,
        sum(units) as units,
        sum(subtotal - promo_discount) as net_revenue
    from orders
    group by customer_id
),

measured as (
    select
        customers.customer_id,
        customers.signup_date,
        per_customer.first_order_date,
        per_customer.last_order_date,
        coalesce(per_customer.order_count, 0) as order_count,
        coalesce(per_customer.units, 0) as units,
        coalesce(per_customer.net_revenue, 0) as net_revenue,
        {{ dbt.datediff('per_customer.last_order_date', 'as_of.as_of_date', 'day') | trim }} as recency_days,
        {{ dbt.datediff('customers.signup_date', 'as_of.as_of_date', 'day') | trim }} as tenure_days
    from customers
    cross join as_of
    left join per_customer
        on customers.customer_id = per_customer.customer_id
),

-- Quintile scores among buyers only (5 = best): recent, frequent, high-spending.
scored as (
    select
        customer_id,
        ntile(5) over (order by recency_days desc, customer_id asc) as recency_score,
        ntile(5) over (order by order_count, customer_id) as frequency_score,
        ntile(5) over (order by net_revenue, customer_id) as monetary_score
    from measured
    where order_count > 0
),

final as (
    select
        measured.customer_id,
        measured.signup_date,
        measured.first_order_date,
        measured.last_order_date,
        cast(measured.order_count as bigint) as order_count,
        cast(measured.units as bigint) as units,
        cast(measured.net_revenue as decimal(14, 2)) as net_revenue,
        {{ decimal_round(
            "case when measured.order_count > 0 then measured.net_revenue / measured.order_count end", 14, 2
        ) }} as average_order_value,
        cast(measured.recency_days as integer) as recency_days,
        cast(measured.tenure_days as integer) as tenure_days,
        cast(scored.recency_score as integer) as recency_score,
        cast(scored.frequency_score as integer) as frequency_score,
        cast(scored.monetary_score as integer) as monetary_score,
        case
            when measured.order_count = 0 then 'never purchased'
            when scored.recency_score >= 4 and scored.frequency_score >= 4 then 'champion'
            when scored.recency_score >= 3 and scored.frequency_score >= 3 then 'loyal'
            when scored.recency_score >= 4 then 'recent'
            when scored.recency_score <= 2 and scored.frequency_score >= 3 then 'at risk'
            when scored.recency_score <= 1 then 'lapsed'
            else 'occasional'
        end as rfm_segment
    from measured
    left join scored
        on measured.customer_id = scored.customer_id
)

select * from final
