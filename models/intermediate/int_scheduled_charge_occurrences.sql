{#-
  Scheduled charges (DATA_CONTRACT contract_scheduled_charges): once at `timestamp`, or repeated
  every MONTHLY / QUARTERLY / ANNUAL from `timestamp` until ending_before (else the contract's end).
  An occurrence exists once as_of has reached it; each goes on the contract's SCHEDULED invoice
  for that timestamp.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with charges as (

    select * from {{ ref('stg_contract_scheduled_charges') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

occurrence_numbers as (

    {{ dbt.generate_series(1200) }}

),

bounded as (

    select
        charges.*,
        contracts.customer_id,
        {{ billing.frequency_months('charges.frequency') }} as repeat_months,
        coalesce(charges.ending_before, contracts.ending_before) as repeat_until,
        case
            when
                coalesce(charges.ending_before, contracts.ending_before) is null
                or coalesce(charges.ending_before, contracts.ending_before) > {{ billing.as_of() }}
                then {{ billing.as_of() }}
            else coalesce(charges.ending_before, contracts.ending_before)
        end as horizon_at
    from charges
    inner join contracts
        on charges.contract_id = contracts.contract_id

),

occurrences as (

    select
        bounded.*,
        occurrence_numbers.generated_number as occurrence_number,
        case
            when bounded.frequency is null then bounded.scheduled_at
            else {{ billing.add_months(
                'bounded.scheduled_at', '(occurrence_numbers.generated_number - 1) * bounded.repeat_months'
            ) }}
        end as charged_at
    from bounded
    inner join occurrence_numbers
        on
            (bounded.frequency is null and occurrence_numbers.generated_number = 1)
            or (
                bounded.frequency is not null
                and occurrence_numbers.generated_number - 1
                <= {{ dbt.datediff('bounded.scheduled_at', 'bounded.horizon_at', 'month') }}
                / bounded.repeat_months
            )

),

final as (

    select
        {{ dbt.hash(dbt.concat(["contract_id", "'|SCHEDULED|'", billing.timestamp_key('charged_at')])) }} as invoice_id,
        scheduled_charge_id,
        contract_id,
        customer_id,
        product_id,
        name,
        occurrence_number,
        charged_at,
        case
            when frequency is not null
                then {{ billing.add_months('scheduled_at', 'occurrence_number * repeat_months') }}
        end as service_ending_before,
        amount
    from occurrences
    where
        charged_at <= {{ billing.as_of() }}
        and (frequency is null or repeat_until is null or charged_at < repeat_until)

)

select * from final
