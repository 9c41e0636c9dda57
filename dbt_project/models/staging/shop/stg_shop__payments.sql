-- A table kept up to date by key (latest_copies): the order-grain marts, their intermediate models and
-- the tests read it many times a run, and a night's extracts touch a few thousand of its keys.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'payment_id',
    on_schema_change='fail',
    pre_hook=[] if target.type == 'spark' else [
        "{{ drop_vanished_copies(source('shop', 'payments'), 'payment_id') }}"
    ]
) }}

with

-- A payment exported again (a later partition) supersedes the earlier copy.
latest as (
    {{ latest_copies(
        source('shop', 'payments'),
        key='payment_id'
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
        _source_file as source_file,
        _loaded_at as loaded_at
    from latest
)

select * from renamed
