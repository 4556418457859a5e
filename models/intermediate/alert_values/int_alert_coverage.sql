{#-
  The customers each alert of alerts.yml covers: the one it names, or every customer when it names
  none. is_period_alert marks the types evaluated per billing period (spend and usage, D69).
-#}
with definitions as (

    select * from {{ ref('int_alert_definitions') }}

),

customers as (

    select customer_id from {{ ref('stg_customers') }}

),

final as (

    select
        definitions.alert_id,
        definitions.alert_type,
        definitions.threshold,
        definitions.billable_metric,
        customers.customer_id,
        definitions.alert_type in ('spend_threshold_reached', 'usage_threshold_reached') as is_period_alert
    from definitions
    inner join customers
        on definitions.customer_id is null or definitions.customer_id = customers.customer_id

)

select * from final
