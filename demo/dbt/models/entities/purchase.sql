select
    purchase_id,
    user_id,
    amount_cents,
    currency,
    created_at,
    loaded_at
from {{ ref('stg_purchase_created') }}
