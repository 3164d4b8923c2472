select
    entity_id as purchase_id,
    user_id,
    amount_cents,
    currency,
    occurred_at as created_at,
    loaded_at
from {{ source('events', 'events') }}
where event_type = 'purchase_created'
