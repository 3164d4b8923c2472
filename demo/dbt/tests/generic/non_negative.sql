{#- Amounts are stored in cents and refunds are separate events, so a negative amount is always a bug. -#}
{% test non_negative(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
