-- The author handle is a keyed token and the text is scrubbed of emails and phone numbers (raw loader);
-- staging only, never selected into a mart.
with

latest as (
    {{ latest_per_key(
        source('external', 'social_mentions'),
        partition_by='mention_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        mention_id,
        platform,
        posted_at,
        cast(posted_at as date) as posted_date,
        author_handle as author_handle_token,
        text as mention_text,
        _source_file as source_file
    from latest
)

select * from renamed
