{#-
  Composite lines (DATA_CONTRACT semantics 6, PERCENTAGE): for each entitled segment of a COMPOSITE
  product with a PERCENTAGE rate, price (a fraction, after overrides) x the amounts of the lines of
  its component products on the same USAGE invoice that start in the segment. Components are the
  products named by composite_product_ids or carrying any of composite_tags (never composites;
  macros/product_lists.sql).
-#}
with segments as (

    select * from {{ ref('int_usage_rate_segments') }}
    where rate_type = 'PERCENTAGE' and is_entitled

),

products as (

    select * from {{ ref('stg_products') }}

),

composites as (

    select * from products
    where product_type = 'COMPOSITE'

),

product_tags as (

    select * from {{ ref('int_product_tags') }}

),

listed_components as (

    {{ billing.products_listed_by_id_or_tag(
        'composites', 'product_id', 'composite_product_ids', 'composite_tags', 'product_tags',
        product_alias='component_product_id'
    ) }}

),

components as (

    select
        listed_components.product_id as composite_product_id,
        listed_components.component_product_id
    from listed_components
    inner join products
        on listed_components.component_product_id = products.product_id
    where products.product_type <> 'COMPOSITE'

),

component_lines as (

    select
        invoice_id,
        product_id,
        starting_at,
        amount
    from {{ ref('int_usage_line_items') }}

    union all

    select
        invoice_id,
        product_id,
        service_starting_at as starting_at,
        amount
    from {{ ref('int_subscription_charges') }}
    where invoice_type = 'USAGE'

),

bases as (

    select
        segments.segment_id,
        sum(component_lines.amount) as base_amount
    from segments
    inner join components
        on segments.product_id = components.composite_product_id
    inner join component_lines
        on
            segments.invoice_id = component_lines.invoice_id
            and components.component_product_id = component_lines.product_id
            and segments.segment_starting_at <= component_lines.starting_at
            and segments.segment_ending_before > component_lines.starting_at
    group by segments.segment_id

),

priced as (

    select
        segments.segment_id,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        segments.product_id,
        products.name,
        segments.segment_starting_at,
        segments.segment_ending_before,
        bases.base_amount,
        segments.unit_price,
        contract_currencies.currency,
        {{ billing.multiply_exact(
            'bases.base_amount', 'segments.unit_price', a_places=billing.money_scale() | int
        ) }} as unrounded_amount
    from bases
    inner join segments
        on bases.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id
    inner join {{ ref('int_contract_currencies') }} as contract_currencies
        on segments.contract_id = contract_currencies.contract_id

),

final as (

    select
        {{ dbt.hash(dbt.concat(["segment_id", "'|composite'"])) }} as line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        'composite' as line_type,
        product_id,
        name,
        segment_starting_at as starting_at,
        segment_ending_before as ending_before,
        cast(base_amount as {{ billing.type_decimal() }}) as quantity,
        unit_price,
        {{ billing.round_money('unrounded_amount', 'currency') }} as amount
    from priced

)

select * from final
