{#- Rows of seeds/customers.csv that break a catalog rule: (seed, row_key, problem). -#}
with shared_aliases as (

    select ingest_alias
    from {{ ref('int_customer_aliases') }}
    group by ingest_alias
    having count(*) > 1

)

{{ billing.config_problem('customers', 'customer_id', billing.missing('customer_id'), 'customer_id is missing') }}
union all
{{ billing.config_problem(
    'customers', 'customer_id',
    billing.duplicate_key('customers', 'customer_id'),
    'customer_id is not unique'
) }}
union all
{{ billing.config_problem(
    'customers', 'customer_id',
    billing.bad_string_list('ingest_aliases'),
    'ingest_aliases is not a JSON list of strings'
) }}
union all
{{ billing.config_problem(
    'customers', 'customer_id',
    billing.bad_enum('billing_provider', ['STRIPE']),
    'billing_provider must be stripe or empty'
) }}
union all
select distinct
    'customers.csv' as seed,
    cast(aliases.customer_id as {{ dbt.type_string() }}) as row_key,
    'ingest alias '
    || aliases.ingest_alias
    || ' belongs to another customer too, or is another customer''s id' as problem
from {{ ref('int_customer_aliases') }} as aliases
left join shared_aliases
    on aliases.ingest_alias = shared_aliases.ingest_alias
left join {{ ref('stg_customers') }} as other_customers
    on
        aliases.ingest_alias = other_customers.customer_id
        and aliases.customer_id <> other_customers.customer_id
where
    shared_aliases.ingest_alias is not null
    or other_customers.customer_id is not null
