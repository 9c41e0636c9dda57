-- A table, not a view: the order-grain marts, their intermediate models and the tests read it many times a
-- run, and as a view each read took the latest copy of every order again (SF10: 0.3-0.5 s per read).
{{ config(materialized='table') }}

with

-- A payment exported again (a later partition) supersedes the earlier copy.
latest as (
    {{ latest_per_key(
        source('shop', 'payments'),
        partition_by='payment_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        payment_id,
        order_id,
        method as payment_method,
        amount as payment_amount,
        status as payment_status,
        authorized_at,
        _source_file as source_file
    from latest
)

select * from renamed
