select
    entity_id as payment_id,
    amount_cents as refund_amount_cents,
    occurred_at as refunded_at,
    loaded_at
from {{ source('events', 'events') }}
where event_type = 'payment_refunded'
