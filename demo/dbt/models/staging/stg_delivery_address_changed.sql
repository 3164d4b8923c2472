select
    entity_id as delivery_address_id,
    user_id,
    street,
    postcode,
    city,
    country,
    occurred_at as valid_from,
    loaded_at
from {{ source('events', 'events') }}
where event_type = 'delivery_address_changed'
