{#- Rows of seeds/customers.csv that break a catalog rule: (seed, row_key, problem). -#}
with shared_aliases as (

    select ingest_alias
    from {{ ref('int_customer_aliases') }}
    group by ingest_alias
    having count(*) > 1

)

{{ billing.row_problems('customers', 'customer_id', [
    [billing.missing('customer_id'), 'customer_id is missing'],
    [billing.bad_string_list('ingest_aliases'), 'ingest_aliases is not a JSON list of strings'],
    [billing.bad_enum('billing_provider', ['STRIPE']), 'billing_provider must be stripe or empty'],
]) }}
union all
{{ billing.config_problem(
    'customers', 'customer_id',
    billing.duplicate_key('customers', 'customer_id'),
    'customer_id is not unique'
) }}
union all
{# An alias listed by two customers is ambiguous (the contract gives no answer). An alias equal to
   another customer's id is not: the id wins (semantics 1, D6); warn_aliases_shadowed_by_customer_ids
   names it on every build. #}
select distinct
    'customers.csv' as seed,
    cast(aliases.customer_id as {{ dbt.type_string() }}) as row_key,
    'ingest alias ' || aliases.ingest_alias || ' belongs to another customer too' as problem
from {{ ref('int_customer_aliases') }} as aliases
inner join shared_aliases
    on aliases.ingest_alias = shared_aliases.ingest_alias
