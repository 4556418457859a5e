{#-
  Subscription service periods (DATA_CONTRACT semantics 6): each service period of a subscription
  (int_subscription_periods) with the rate in effect at the service start (price, entitlement) and
  service_fraction: days in service / days in the nominal service period when is_prorated (exact to
  10 places), else 1.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with service_periods as (

    select * from {{ ref('int_subscription_periods') }}

),

rates as (

    select * from {{ ref('stg_rate_card_rates') }}
    where rate_type = 'SUBSCRIPTION'

),

priced as (

    select
        service_periods.*,
        rates.price,
        rates.is_entitled,
        case
            when service_periods.is_prorated
                then {{ billing.divide_exact('service_periods.days_in_service', 'service_periods.days_in_period') }}
            else cast(1 as {{ billing.type_decimal() }})
        end as service_fraction
    from service_periods
    inner join rates
        on
            service_periods.rate_card_id = rates.rate_card_id
            and service_periods.product_id = rates.product_id
            and service_periods.service_starting_at >= rates.starting_at
            and (rates.ending_before is null or service_periods.service_starting_at < rates.ending_before)

),

final as (

    select
        {{ dbt.hash(dbt.concat(["subscription_id", "'|'", billing.timestamp_key('service_starting_at')])) }}
            as service_period_id,
        subscription_id,
        contract_id,
        customer_id,
        product_id,
        quantity,
        collection_schedule,
        service_starting_at,
        service_ending_before,
        price,
        is_entitled,
        service_fraction
    from priced

)

select * from final
