with

consents as (
    select * from {{ ref('stg_crm__consents') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by customer_id, channel
            order by recorded_at desc, consent_event_id desc
        ) as recency_rank
    from consents
),

current_consents as (
    select
        customer_id,
        max(case when channel = 'email' and consent_status = 'granted' then 1 else 0 end) = 1
            as has_email_consent,
        max(case when channel = 'push' and consent_status = 'granted' then 1 else 0 end) = 1
            as has_push_consent
    from latest
    where recency_rank = 1
    group by customer_id
)

select * from current_consents
