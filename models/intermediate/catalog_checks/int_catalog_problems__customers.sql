{#- Rows of seeds/customers.csv that break a catalog rule: (seed, row_key, problem). -#}
{{ billing.config_problem('customers', 'customer_id', billing.missing('customer_id'), 'customer_id is missing') }}
union all
{{ billing.config_problem('customers', 'customer_id', billing.duplicate_key('customers', 'customer_id'), 'customer_id is not unique') }}
union all
{{ billing.config_problem('customers', 'customer_id', billing.bad_string_list('ingest_aliases'), 'ingest_aliases is not a JSON list of strings') }}
union all
{{ billing.config_problem('customers', 'customer_id', billing.bad_enum('billing_provider', ['STRIPE']), 'billing_provider must be stripe or empty') }}
union all
select
    'customers.csv' as seed,
    cast(customer_id as {{ dbt.type_string() }}) as row_key,
    'ingest alias ' || ingest_alias || ' belongs to another customer too, or is another customer''s id' as problem
from {{ ref('int_customer_aliases') }} as aliases
where ingest_alias in (
    select ingest_alias from {{ ref('int_customer_aliases') }} group by ingest_alias having count(*) > 1
)
or ingest_alias in (
    select customer_id from {{ ref('stg_customers') }} where customer_id <> aliases.customer_id
)
