{{ config(materialized='incremental', unique_key='call_id') }}
select c.*, v.vessel_name
from {{ ref('stg_port_calls') }} as c
join {{ ref('vessels') }} as v using (vessel_id)
{% if is_incremental() %}
where c.arrived_at > (select max(arrived_at) from {{ this }})
{% endif %}
