{#-
  The billing periods this build rates (DECISIONLOG D29, D30, D43): every open period (its invoice
  not final when the build started) and every final period with late events (attributed events of
  the contract in the period that the build which stored the invoice, or its last adjustment, did
  not see: loaded after that build's events_loaded_through),
  which is re-rated only to compute its late_usage_adjustment lines. Other final periods are not rated
  again, so the rating work grows with open and late periods, not with history.
-#}
with periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

stored_invoices as (

    select * from {{ ref('int_stored_invoices') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

last_adjusted as (

    {#- the events seen when late usage for a final invoice was last billed (its adjustment stored) -#}
    select
        adjusted_invoice_id as invoice_id,
        max(events_loaded_through) as adjusted_through
    from {{ ref('int_stored_invoice_line_items') }}
    where line_type = 'late_usage_adjustment'
    group by adjusted_invoice_id

),

billed_through as (

    {#- a final period has been billed for every event loaded up to this instant (what its builds saw) -#}
    select
        stored_invoices.invoice_id,
        stored_invoices.contract_id,
        stored_invoices.period_starting_at,
        stored_invoices.period_ending_before,
        case
            when last_adjusted.adjusted_through > stored_invoices.events_loaded_through
                then last_adjusted.adjusted_through
            else stored_invoices.events_loaded_through
        end as billed_through_at
    from stored_invoices
    left join last_adjusted
        on stored_invoices.invoice_id = last_adjusted.invoice_id
    where stored_invoices.invoice_type = 'USAGE'

),

late_events as (

    select
        contract_id,
        event_at,
        loaded_at
    from {{ ref('int_events_attributed') }}
    where
        attribution_rejection_reason is null
        and loaded_at > (select min(stored_invoices.events_loaded_through) from stored_invoices)

),

late_invoices as (

    select distinct billed_through.invoice_id
    from billed_through
    inner join late_events
        on
            billed_through.contract_id = late_events.contract_id
            and billed_through.period_starting_at <= late_events.event_at
            and billed_through.period_ending_before > late_events.event_at
            and billed_through.billed_through_at < late_events.loaded_at

),

final as (

    select
        periods.*,
        invoice_states.is_final,
        late_invoices.invoice_id is not null as has_late_usage
    from periods
    inner join invoice_states
        on periods.invoice_id = invoice_states.invoice_id
    left join late_invoices
        on periods.invoice_id = late_invoices.invoice_id
    where
        not invoice_states.is_final
        or late_invoices.invoice_id is not null

)

-- AM04: `periods.*` is every column of the periods, plus the two flags
select * from final  -- noqa: AM04
