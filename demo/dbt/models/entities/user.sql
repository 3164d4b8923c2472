{#- USER is a reserved word in DuckDB and standard SQL; the table is named `users` so no query needs quoting. -#}
{{ config(alias='users') }}

select
    user_id,
    registered_at,
    country,
    city,
    home_currency,
    loaded_at
from {{ ref('stg_user_registered') }}
