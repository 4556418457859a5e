{#-
  When DuckDB writes a build's changes into the database file (DECISIONLOG D89). DuckDB appends each
  commit to its write-ahead log and checkpoints (writes the changed tables into the file) when the
  log passes checkpoint_threshold, 16 MB by default, and when the process closes the database.
  A build whose every event model is planned incremental (plan_event_batches, this build's rows of
  billing_build_plans) raises the threshold to var('incremental_checkpoint_threshold') (1GB): its
  commits then stay in the log until the process ends, after `billing build` has published the
  readers' copy, instead of stopping a node in the middle of the build to checkpoint. Any other
  build (first, --full-refresh, a changed model, no event model selected) resets it to DuckDB's
  default: its large tables are cheaper to checkpoint as they come. The setting belongs to the
  database instance, so a process that builds twice gets each build's own decision.
  Nothing is less durable: a commit is on disk in the log, which DuckDB replays when it next opens
  the file after a killed process. A `checkpoint_threshold` in the profile's settings wins (dbt-duckdb
  sets it again on each connection it opens), and this hook leaves it alone.
  Example (on-run-start, after plan_event_batches): `set checkpoint_threshold = '1GB'`.
-#}
{% macro defer_checkpoints_of_incremental_builds() -%}
{{ return(adapter.dispatch('defer_checkpoints_of_incremental_builds', 'billing')()) }}
{%- endmacro %}

{% macro default__defer_checkpoints_of_incremental_builds() %}{{ return('') }}{% endmacro %}

{% macro duckdb__defer_checkpoints_of_incremental_builds() -%}
{%- if not execute or 'checkpoint_threshold' in (target.get('settings') or {}) -%}{{ return('') }}{%- endif -%}
{%- set planned -%}
select count(*), count(case when decision <> 'incremental' then 1 end)
from {{ billing.event_batch_state_relation('plans') }}
where invocation_id = '{{ invocation_id }}'
{%- endset -%}
{%- set counts = run_query(planned).rows[0] -%}
{%- if counts[0] > 0 and counts[1] == 0 -%}
set checkpoint_threshold = '{{ var('incremental_checkpoint_threshold') }}'
{%- else -%}
reset checkpoint_threshold
{%- endif -%}
{%- endmacro %}
