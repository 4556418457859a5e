{#-
  The quantity billed per contract, service period, product (its billable metric) and group values
  (issue 18): the quantity of each usage line of a period's USAGE invoice, as rated for the
  period as a whole, so a UNIQUE metric counts the period's distinct values, not a sum of daily
  ones (fct_usage_daily), and MAX / LATEST are the period's.
  Late usage is folded in: the late_usage_adjustment lines billed for the period on later invoices
  (re-rated minus billed, DECISIONLOG D30, D31) are added to the row of the line they adjust (same
  product, line start and group values), so quantity is what has been billed for the period in all;
  invoiced_quantity and late_adjusted_quantity keep the two parts apart. A row per line: a period
  with a rate change has a row per rate segment (starting_at), each billed on its own; rows of a
  UNIQUE, MAX or LATEST metric do not add up across segments, groups or periods.
  On DuckDB the table keeps the rows of final invoices whose version, late adjustments and catalog
  names have not changed and rates the others again (macros/invoice_marts.sql).
-#}
{{ config(
    materialized=billing.invoice_mart_materialization(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook=[
        "{{ billing.keep_current_invoice_versions(ref('invoice_store')) }}",
        "{{ billing.keep_billed_quantities_current(ref('fct_invoice_line_items'), ref('stg_products'), ref('int_billable_metrics')) }}",
    ],
    post_hook="{{ billing.record_invoice_mart_code_version(ref('invoice_store')) }}",
) }}
with line_items as (

    select * from {{ ref('fct_invoice_line_items') }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}

),

open_invoices as (

    select invoices.invoice_id
    from invoices
    where invoices.invoice_version is null

),

products as (

    select * from {{ ref('stg_products') }}

),

billable_metrics as (

    select * from {{ ref('int_billable_metrics') }}

),

billed_parts as (

    {#- the usage lines of each period's own invoice, and what late usage added to them on later
        invoices (keyed by the invoice they adjust) -#}
    select
        case when line_type = 'usage' then invoice_id else adjusted_invoice_id end as invoice_id,
        contract_id,
        customer_id,
        product_id,
        starting_at,
        ending_before,
        pricing_group_values,
        presentation_group_values,
        case when line_type = 'usage' then quantity else 0 end as invoiced_quantity,
        case when line_type = 'late_usage_adjustment' then quantity else 0 end as late_adjusted_quantity,
        case when line_type = 'late_usage_adjustment' then 1 else 0 end as late_adjustment_lines
    from line_items
    where
        (
            line_type = 'usage'
            and (
                {{ billing.invoice_written('invoice_id') }}
                or invoice_id in (select open_invoices.invoice_id from open_invoices)
            )
        )
        or (
            line_type = 'late_usage_adjustment'
            and adjusted_line_type = 'usage'
            and (
                {{ billing.invoice_written('adjusted_invoice_id') }}
                or adjusted_invoice_id in (select open_invoices.invoice_id from open_invoices)
            )
        )

),

billed as (

    select
        invoice_id,
        contract_id,
        customer_id,
        product_id,
        starting_at,
        max(ending_before) as ending_before,
        pricing_group_values,
        presentation_group_values,
        sum(invoiced_quantity) as invoiced_quantity,
        sum(late_adjusted_quantity) as late_adjusted_quantity,
        sum(late_adjustment_lines) as late_adjustment_lines
    from billed_parts
    group by
        invoice_id, contract_id, customer_id, product_id, starting_at,
        pricing_group_values, presentation_group_values

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "billed.invoice_id", "'|'", "coalesce(billed.product_id, '')",
            "'|'", billing.timestamp_key('billed.starting_at'),
            "'|'", "coalesce(billed.pricing_group_values, '')",
            "'|'", "coalesce(billed.presentation_group_values, '')"])) }} as billed_quantity_id,
        billed.contract_id,
        billed.customer_id,
        billed.invoice_id,
        invoices.status as invoice_status,
        invoices.invoice_version,
        invoices.stored_at,
        invoices.period_starting_at,
        invoices.period_ending_before,
        billed.product_id,
        products.name as product_name,
        products.billable_metric,
        billable_metrics.aggregation,
        billed.starting_at,
        billed.ending_before,
        billed.pricing_group_values,
        billed.presentation_group_values,
        cast(billed.invoiced_quantity + billed.late_adjusted_quantity as {{ billing.type_decimal() }}) as quantity,
        cast(billed.invoiced_quantity as {{ billing.type_decimal() }}) as invoiced_quantity,
        cast(billed.late_adjusted_quantity as {{ billing.type_decimal() }}) as late_adjusted_quantity,
        cast(billed.late_adjustment_lines as {{ dbt.type_bigint() }}) as late_adjustment_lines
    from billed
    inner join invoices
        on billed.invoice_id = invoices.invoice_id
    left join products
        on billed.product_id = products.product_id
    left join billable_metrics
        on products.billable_metric = billable_metrics.billable_metric

)

select * from final
