-- The shelf price of every product on every day: the list price in force (the latest PIM price change on
-- or before the day) less the deepest promotion running that day (a product markdown, a sale of its
-- category or a sitewide sale; promotions do not stack). Pricing and forecasting need the price on days
-- without sales too, which the order lines cannot give.
with

price_changes as (
    select * from {{ ref('stg_pim__price_changes') }}
),

promotions as (
    select * from {{ ref('stg_marketing__promotions') }}
),

products as (
    select
        product_id,
        category_id
    from {{ ref('dim_product') }}
),

price_periods as (
    select
        product_id,
        effective_from_date,
        list_price,
        lead(effective_from_date) over (
            partition by product_id order by effective_from_date
        ) as next_change_date
    from price_changes
),

calendar_bounds as (
    select
        min(price_changes.effective_from_date) as first_day,
        (select max(cast(orders.ordered_at as date)) from {{ ref('stg_shop__orders') }} as orders) as last_day
    from price_changes
),

calendar as (
    select dates.date_day as price_date
    from {{ ref('dim_date') }} as dates
    cross join calendar_bounds
    where dates.date_day between calendar_bounds.first_day and calendar_bounds.last_day
),

list_prices as (
    select
        price_periods.product_id,
        calendar.price_date,
        price_periods.list_price
    from price_periods
    inner join calendar
        on
            price_periods.effective_from_date <= calendar.price_date
            and (
                price_periods.next_change_date is null
                or price_periods.next_change_date > calendar.price_date
            )
),

-- One row per promotion and day it runs, so each scope below joins on equality (product, category or
-- nothing) plus the day: a single join with an OR of the three scopes cannot use a hash join and took
-- most of a minute at SF1.
promotion_days as (
    select
        promotions.promotion_scope,
        promotions.product_id,
        promotions.category_id,
        promotions.discount_pct,
        calendar.price_date
    from promotions
    inner join calendar
        on calendar.price_date between promotions.starts_on and promotions.ends_on
),

scoped_discounts as (
    select
        list_prices.product_id,
        list_prices.price_date,
        promotion_days.discount_pct
    from list_prices
    inner join promotion_days
        on
            list_prices.product_id = promotion_days.product_id
            and list_prices.price_date = promotion_days.price_date
    where promotion_days.promotion_scope = 'markdown'

    union all

    select
        list_prices.product_id,
        list_prices.price_date,
        promotion_days.discount_pct
    from list_prices
    inner join products
        on list_prices.product_id = products.product_id
    inner join promotion_days
        on
            products.category_id = promotion_days.category_id
            and list_prices.price_date = promotion_days.price_date
    where promotion_days.promotion_scope = 'category_sale'

    union all

    select
        list_prices.product_id,
        list_prices.price_date,
        promotion_days.discount_pct
    from list_prices
    inner join promotion_days
        on list_prices.price_date = promotion_days.price_date
    where promotion_days.promotion_scope = 'sitewide_sale'
),

promotion_discounts as (
    select
        product_id,
        price_date,
        max(discount_pct) as discount_pct
    from scoped_discounts
    group by product_id, price_date
),

final as (
    select
        {{ dbt.concat([
            "cast(list_prices.price_date as " ~ dbt.type_string() ~ ")", "'|'", "list_prices.product_id"
        ]) }} as product_price_day_key,
        list_prices.price_date,
        list_prices.product_id,
        cast(list_prices.list_price as decimal(12, 2)) as list_price,
        cast(coalesce(promotion_discounts.discount_pct, 0) as double) as discount_pct,
        {{ decimal_round(
            "list_prices.list_price * (1 - coalesce(promotion_discounts.discount_pct, 0))", 12, 2
        ) }} as effective_price,
        coalesce(promotion_discounts.discount_pct, 0) > 0 as is_promoted
    from list_prices
    left join promotion_discounts
        on
            list_prices.product_id = promotion_discounts.product_id
            and list_prices.price_date = promotion_discounts.price_date
)

select * from final
