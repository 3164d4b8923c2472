{{ config(materialized='ephemeral') }}
select
    berth,
    sum(date_diff('minute', arrived_at, coalesce(departed_at, arrived_at))) / 60.0 as hours
from {{ ref('stg_port_calls') }}
group by berth
