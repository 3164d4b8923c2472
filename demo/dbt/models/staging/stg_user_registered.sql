select
    entity_id as user_id,
    occurred_at as registered_at,
    country,
    city,
    currency as home_currency,
    loaded_at
from {{ source('events', 'events') }}
where event_type = 'user_registered'
