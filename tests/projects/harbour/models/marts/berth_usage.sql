select berth, hours from {{ ref('berth_hours') }}
