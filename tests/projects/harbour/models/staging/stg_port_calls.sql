select
    call_id,
    vessel_id,
    cast(arrived_at as timestamp) as arrived_at,
    cast(departed_at as timestamp) as departed_at,
    berth
from {{ ref('raw_port_calls') }}
