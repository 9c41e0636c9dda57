with

conversations as (
    select * from {{ ref('stg_crm__support_conversations') }}
),

-- The transcript is free text and stays in staging until it is scrubbed of personal data.
final as (
    select
        conversation_id,
        customer_id,
        order_id,
        support_channel,
        opened_date,
        opened_at,
        closed_at,
        resolution,
        resolution = 'resolved' as is_resolved,
        cast(
            {{ dbt.datediff('opened_at', 'closed_at', 'second') | trim }} / 60.0 as double
        ) as minutes_to_close
    from conversations
)

select * from final
