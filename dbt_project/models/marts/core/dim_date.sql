with

spine as (
    {{ date_spine(var('calendar_start'), var('calendar_end')) }}
),

holidays as (
    select * from {{ ref('holidays') }}
),

days as (
    select
        date_day,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week
    from spine
),

final as (
    select
        days.date_day,
        cast(extract(year from days.date_day) as integer) as calendar_year,
        cast(extract(quarter from days.date_day) as integer) as calendar_quarter,
        cast(extract(month from days.date_day) as integer) as calendar_month,
        case cast(extract(month from days.date_day) as integer)
            when 1 then 'January' when 2 then 'February' when 3 then 'March'
            when 4 then 'April' when 5 then 'May' when 6 then 'June'
            when 7 then 'July' when 8 then 'August' when 9 then 'September'
            when 10 then 'October' when 11 then 'November' else 'December'
        end as month_name,
        cast(extract(day from days.date_day) as integer) as day_of_month,
        cast(days.iso_day_of_week as integer) as iso_day_of_week,
        case days.iso_day_of_week
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
            when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday' else 'Sunday'
        end as day_name,
        days.iso_day_of_week >= 6 as is_weekend,
        cast({{ dbt.dateadd('day', '1 - days.iso_day_of_week', 'days.date_day') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'days.date_day') }} as date) as month_start,
        holidays.holiday_name,
        coalesce(holidays.is_public_holiday, false) as is_public_holiday,
        holidays.holiday_date is not null as is_holiday_or_event
    from days
    left join holidays
        on days.date_day = holidays.holiday_date
)

select * from final
