{#-
  Every invoice line (DATA_CONTRACT outputs): the lines of final invoices as stored
  (finalized_invoice_line_items) and those of open invoices as rated by this build.
-#}
with stored as (

    select * from {{ ref('finalized_invoice_line_items') }}

),

stored_invoices as (

    select invoice_id from {{ ref('finalized_invoices') }}

),

open_lines as (

    select line_items.*
    from {{ ref('int_open_invoice_line_items') }} as line_items
    left join stored_invoices
        on line_items.invoice_id = stored_invoices.invoice_id
    where stored_invoices.invoice_id is null

),

unioned as (

    select
        {{ billing.line_item_columns() }}
    from stored

    union all

    select
        {{ billing.line_item_columns() }}
    from open_lines

),

final as (

    select * from unioned

)

select * from final
