{#-
  The columns DATA_CONTRACT.md lists for each catalog seed. Each staging model checks its seed
  (or a user's replacement of the same shape) when it runs, so a missing column fails with the
  file and the column named instead of an engine binder error.
-#}
{% macro seed_contract_columns(seed) -%}
{%- set columns = {
    'customers': 'customer_id,name,ingest_aliases,billing_provider,billing_provider_customer_id',
    'products': 'product_id,name,type,billable_metric,tags,quantity_conversion_factor,quantity_conversion_operation,quantity_rounding_decimal_places,quantity_rounding_method,pricing_group_key,presentation_group_key,composite_product_ids,composite_tags',
    'rate_cards': 'rate_card_id,name,currency',
    'rate_card_rates': 'rate_card_id,product_id,starting_at,ending_before,entitled,rate_type,price,tiers,package_size,pricing_group_values,billing_frequency',
    'contracts': 'contract_id,customer_id,rate_card_id,name,starting_at,ending_before,usage_statement_frequency,usage_statement_day,net_payment_terms_days',
    'contract_overrides': 'override_id,contract_id,starting_at,ending_before,product_id,product_tags,pricing_group_values,type,multiplier,rate_type,price,tiers,entitled,priority',
    'contract_subscriptions': 'subscription_id,contract_id,product_id,quantity,starting_at,ending_before,collection_schedule,is_prorated',
    'contract_scheduled_charges': 'scheduled_charge_id,contract_id,product_id,name,timestamp,amount,frequency,ending_before',
    'contract_commits': 'commit_id,contract_id,type,product_id,name,amount,access_starting_at,access_ending_before,invoice_at,invoice_amount,applicable_product_ids,applicable_product_tags,priority',
    'contract_credits': 'credit_id,contract_id,product_id,name,amount,access_starting_at,access_ending_before,applicable_product_ids,applicable_product_tags,priority',
} -%}
{{ return(columns[seed].split(',')) }}
{%- endmacro %}

{% macro require_seed_columns(seed) -%}
{%- if execute -%}
    {%- set relation = load_relation(ref(seed)) -%}
    {%- if relation is not none -%}
        {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = [] -%}
        {%- for column in billing.seed_contract_columns(seed) -%}
            {%- if column not in present -%}{%- do missing.append(column) -%}{%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error("seed=" ~ seed ~ ".csv, problem=missing column(s) " ~ missing | join(', ')
                ~ " (the header must have every column DATA_CONTRACT.md lists; leave values empty when unused)") }}
        {%- endif -%}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}

{#-
  A seed pre-hook (dbt_project.yml): the CSV's header must name exactly the contract's columns, in
  any order (DECISIONLOG D40). It reads the header as dbt's seed materialization does (the agate
  table's column names), so a misspelled, missing or extra column fails the seed, naming the file
  and the columns, before its table is touched and before anything downstream runs. Seeds are
  recreated from the header on every build (`+full_refresh: true`), so values load by name.
-#}
{% macro require_seed_header() -%}
{%- if execute and model.resource_type == 'seed' and model.name in billing.seed_contract_names() -%}
    {%- set header = load_agate_table().column_names | map('string') | map('lower') | list -%}
    {%- set expected = billing.seed_contract_columns(model.name) -%}
    {%- set missing = [] -%}
    {%- set unknown = [] -%}
    {%- for column in expected if column not in header -%}{%- do missing.append(column) -%}{%- endfor -%}
    {%- for column in header if column not in expected -%}{%- do unknown.append(column) -%}{%- endfor -%}
    {%- set problems = [] -%}
    {%- if missing -%}{%- do problems.append('missing column(s) ' ~ missing | join(', ')) -%}{%- endif -%}
    {%- if unknown -%}{%- do problems.append('unknown column(s) ' ~ unknown | join(', ')) -%}{%- endif -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("seed=" ~ model.name ~ ".csv, problem=" ~ problems | join('; ')
            ~ " (the header must name exactly the columns DATA_CONTRACT.md lists, in any order; leave values empty when unused)") }}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}

{% macro seed_contract_names() -%}
{{ return(['customers', 'products', 'rate_cards', 'rate_card_rates', 'contracts', 'contract_overrides',
           'contract_subscriptions', 'contract_scheduled_charges', 'contract_commits', 'contract_credits']) }}
{%- endmacro %}
