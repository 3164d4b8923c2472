with versions as (
    select
        *,
        lead(valid_from) over (partition by user_id order by valid_from, delivery_address_id) as valid_to
    from {{ ref('stg_delivery_address_changed') }}
)

select
    delivery_address_id,
    user_id,
    street,
    postcode,
    city,
    country,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    loaded_at
from versions
