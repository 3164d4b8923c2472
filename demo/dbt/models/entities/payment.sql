with refunds as (
    select
        payment_id,
        sum(refund_amount_cents) as refunded_amount_cents,
        max(refunded_at) as refunded_at,
        max(loaded_at) as loaded_at
    from {{ ref('stg_payment_refunded') }}
    group by payment_id
)

select
    c.payment_id,
    c.purchase_id,
    c.user_id,
    c.amount_cents,
    c.currency,
    case when r.payment_id is null then 'captured' else 'refunded' end as status,
    c.captured_at,
    r.refunded_at,
    coalesce(r.refunded_amount_cents, 0) as refunded_amount_cents,
    -- a refund changes the row, so the row counts as loaded when its latest event landed
    greatest(c.loaded_at, coalesce(r.loaded_at, c.loaded_at)) as loaded_at
from {{ ref('stg_payment_captured') }} as c
left join refunds as r on r.payment_id = c.payment_id
