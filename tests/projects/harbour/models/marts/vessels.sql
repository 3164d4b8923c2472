select vessel_id, vessel_name, flag from {{ ref('raw_vessels') }}
