select
    entity_id as payment_id,
    purchase_id,
    user_id,
    amount_cents,
    currency,
    occurred_at as captured_at,
    loaded_at
from {{ source('events', 'events') }}
where event_type = 'payment_captured'
