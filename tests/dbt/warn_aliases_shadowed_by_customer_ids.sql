{{ config(severity='warn') }}
{#-
  An ingest alias equal to another customer's id never attributes an event: an event's customer_id
  matches a customer id first, then an alias (DATA_CONTRACT semantics 1, DECISIONLOG D6). The catalog
  is accepted; this warning names the alias on every build so that its owner can be corrected.
-#}
select
    aliases.customer_id as alias_owner,
    aliases.ingest_alias,
    customers.customer_id as shadowing_customer_id
from {{ ref('int_customer_aliases') }} as aliases
inner join {{ ref('stg_customers') }} as customers
    on
        aliases.ingest_alias = customers.customer_id
        and aliases.customer_id <> customers.customer_id
