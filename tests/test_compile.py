"""The metric compiler (billing_cli.metrics): golden files, filter semantics, escaping, validation.

Golden files: tests/golden/metrics.yml compiles to tests/golden/expected/<file>. After an intended
change to the generated models, regenerate them and review the diff:
    UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_compile.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import jinja2
import pytest
import sqlglot
import yaml
from sqlglot import exp

from billing_cli.errors import BillingError
from billing_cli.metrics import (
    compile_metrics,
    jinja_string,
    load_metrics,
    render_metric_model,
    render_sql_metric_models,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPECTED = GOLDEN / "expected"


def compile_yaml(tmp_path: Path, text: str) -> dict[str, str]:
    """Generated files by name, from YAML text."""
    path = tmp_path / "billable_metrics.yml"
    path.write_text(text)
    return {rel.name: content for rel, content in compile_metrics(load_metrics(path)).files.items()}


# -- golden files ---------------------------------------------------------------------------------


def golden_files() -> dict[str, str]:
    files = {rel.name: text for rel, text in compile_metrics(load_metrics(GOLDEN / "metrics.yml")).files.items()}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        EXPECTED.mkdir(exist_ok=True)
        for old in EXPECTED.iterdir():
            old.unlink()
        for name, text in files.items():
            (EXPECTED / name).write_text(text)
    return files


GOLDEN_FILES = golden_files()


def test_golden_file_set():
    assert sorted(p.name for p in EXPECTED.iterdir()) == sorted(GOLDEN_FILES)
    assert len(GOLDEN_FILES) >= 6 + 2  # one model per metric, the union and the schema file at least


@pytest.mark.parametrize("name", sorted(GOLDEN_FILES))
def test_golden_file_content(name):
    expected = EXPECTED / name
    assert expected.exists(), f"{name} has no golden file; run with UPDATE_GOLDEN=1 and review it"
    assert GOLDEN_FILES[name] == expected.read_text(), f"{name} differs from its golden file"


# -- the generated SQL as plain SQL --------------------------------------------------------------

STRING_LITERAL = re.compile(r"\{\{ billing\.string_literal\(('(?:[^'\\]|\\.)*')\) \}\}")


def duckdb_literal(match: re.Match) -> str:
    """A `{{ billing.string_literal('...') }}` call as DuckDB's literal (the macro's default__ variant)."""
    return _Macros.string_literal(jinja2.Environment().from_string("{{ " + match[1] + " }}").render())


def plain_sql(model: str) -> str:
    """The model with jinja comments and config() dropped, the row order as ORDER BY, dbt types as DuckDB types, string
    literals as DuckDB's and every other `{{ ns.macro(args) }}` as a plain call `macro(args)`."""
    text = STRING_LITERAL.sub(duckdb_literal, model)
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", "", text, flags=re.S)
    text = re.sub(r"\{\{ config\(\n.*?\n\) \}\}", "", text, flags=re.S)  # a config() over several lines
    text = re.sub(r"\{\{\s*config\(.*?\)\s*\}\}", "", text)
    text = re.sub(r"\{\{ billing\.order_rows_by\(\[(.*?)\]\) \}\}", lambda m: "order by " + m[1].replace("'", ""), text)
    text = text.replace("{{ dbt.type_string() }}", "varchar").replace("{{ billing.type_decimal() }}", "decimal(38, 10)")
    text = text.replace("{{ billing.inline_cte() }}", "not materialized")
    return re.sub(r"\{\{\s*(?:\w+\.)?(\w+)\((.*?)\)\s*\}\}", r"\1(\2)", text)


def matched_predicates(model: str) -> list[exp.Expression]:
    """The conjuncts of the WHERE clause of the model's `matched` CTE."""
    tree = sqlglot.parse_one(plain_sql(model), dialect="duckdb")
    [matched] = [cte.this for cte in tree.find_all(exp.CTE) if cte.alias == "matched"]
    where = matched.args["where"].this
    return list(where.flatten()) if isinstance(where, exp.And) else [where]


@pytest.mark.parametrize("name", sorted(n for n in GOLDEN_FILES if n.endswith(".sql")))
def test_generated_sql_parses(name):
    sql = plain_sql(GOLDEN_FILES[name])
    assert "{{" not in sql and "{%" not in sql
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    assert isinstance(tree, (exp.Select, exp.Union))


def test_filters_become_one_condition_each():
    conditions = matched_predicates(GOLDEN_FILES["int_metric_events__tokens.sql"])
    # event type, in, not_in, exists true, exists false, and the summed property being present
    assert len(conditions) == 6
    sql = [c.sql(dialect="duckdb").lower() for c in conditions]
    assert sql[0] == "event_type = 'completion'"
    assert sql[1] == "json_get('properties', 'environment') in ('production', 'staging')"
    # a missing property passes `not_in`; the `or` stays inside its conjunct (6 conjuncts above)
    assert isinstance(conditions[2], exp.Or)
    assert sql[2] == (
        "json_get('properties', 'is_test') is null or not json_get('properties', 'is_test') in ('true', '1')"
    )
    assert sql[3] == "not json_get('properties', 'region') is null"
    assert sql[4] == "json_get('properties', 'deleted_at') is null"
    assert sql[5] == "not json_get('properties', 'tokens') is null"


# -- the generated SQL run on DuckDB --------------------------------------------------------------


class _Macros:
    """The DuckDB implementations of the macros a metric model calls (see macros/*.sql)."""

    @staticmethod
    def json_get(expr, key):
        return f"json_extract_string({expr}, '$.\"{key}\"')"

    @classmethod
    def json_properties_object(cls, expr, keys):
        pairs = ", ".join(f"'{k}', {cls.json_get(expr, k)}" for k in keys)
        return f"cast(json_object({pairs}) as varchar)"

    @staticmethod
    def type_decimal():
        return "decimal(38, 10)"

    @staticmethod
    def try_to_decimal(expr):
        return f"try_cast(trim({expr}) as decimal(38, 10))"

    @classmethod
    def to_metric_number(cls, expr):
        value = cls.try_to_decimal(expr)
        return f"case when abs({value}) < 1000000000000000 then {value} end"

    @classmethod
    def metric_value_rejection(cls, expr):
        return (
            f"case when {cls.to_metric_number(expr)} is not null then null "
            f"when {cls.try_to_decimal(expr)} is not null then 'value_out_of_range' else 'non_numeric_value' end"
        )

    @staticmethod
    def type_string():
        return "varchar"

    @staticmethod
    def inline_cte():
        return "not materialized"

    @staticmethod
    def string_literal(text):
        return "'" + text.replace("'", "''") + "'"


def run_model(model: str, events: list[dict]) -> dict[str, dict]:
    """Run a generated metric model on DuckDB over `events` (int_events_to_meter: attributed events of the
    build's batch); rows by transaction_id."""
    sql = (
        jinja2.Environment()
        .from_string(model)
        .render(ref=lambda name: "int_events_to_meter", billing=_Macros, dbt=_Macros, config=lambda **_: "")
    )
    con = duckdb.connect()
    try:
        con.execute("""
            create table int_events_to_meter (
                transaction_id varchar, sent_customer_id varchar, customer_id varchar, contract_id varchar,
                event_type varchar, event_at timestamp, loaded_at timestamp, properties varchar)
        """)
        for i, e in enumerate(events):
            con.execute(
                "insert into int_events_to_meter values (?, 'cus_1', 'cus_1', 'con_1', ?, "
                "timestamp '2025-01-05' + to_minutes(?::bigint), timestamp '2025-01-10', ?)",
                [e["id"], e["type"], i, json.dumps(e.get("props", {}))],
            )
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()


def test_filter_semantics_follow_the_contract():
    base = {"environment": "production", "region": "eu", "tokens": 10}
    events = [
        {"id": "match", "type": "completion", "props": base},
        {
            "id": "staging_not_test",
            "type": "completion",
            "props": {**base, "environment": "staging", "is_test": "false"},
        },
        {"id": "no_environment", "type": "completion", "props": {"region": "eu", "tokens": 1}},  # fails `in`
        {"id": "test_text", "type": "completion", "props": {**base, "is_test": "true"}},  # fails `not_in`
        {"id": "test_number", "type": "completion", "props": {**base, "is_test": 1}},  # a number as its text
        {"id": "no_region", "type": "completion", "props": {"environment": "production", "tokens": 1}},  # exists: true
        {"id": "deleted", "type": "completion", "props": {**base, "deleted_at": "2025-01-01"}},  # exists: false
        {"id": "deleted_null", "type": "completion", "props": {**base, "deleted_at": None}},  # null = absent
        {"id": "no_tokens", "type": "completion", "props": {"environment": "production", "region": "eu"}},
        {"id": "text_tokens", "type": "completion", "props": {**base, "tokens": "lots"}},
        {"id": "string_tokens", "type": "completion", "props": {**base, "tokens": " 2.5 "}},
        {"id": "other_type", "type": "login", "props": base},
    ]

    rows = run_model(GOLDEN_FILES["int_metric_events__tokens.sql"], events)

    assert sorted(rows) == ["deleted_null", "match", "staging_not_test", "string_tokens", "text_tokens"]
    assert rows["match"]["metric_value"] == 10
    assert str(rows["string_tokens"]["metric_value"]) == "2.5000000000"
    assert rows["text_tokens"]["metric_value"] is None and rows["text_tokens"]["is_non_numeric"] is True
    assert rows["text_tokens"]["value_rejection"] == "non_numeric_value"
    assert rows["match"]["value_rejection"] is None
    assert rows["match"]["is_non_numeric"] is False
    assert (rows["match"]["billable_metric"], rows["match"]["aggregation"]) == ("tokens", "sum")


def test_event_type_in_count_and_group_values():
    events = [{"id": "up", "type": "upload"}, {"id": "down", "type": "download"}, {"id": "other", "type": "delete"}]
    rows = run_model(GOLDEN_FILES["int_metric_events__transfers.sql"], events)
    assert sorted(rows) == ["down", "up"]
    assert {r["metric_value"] for r in rows.values()} == {1}
    assert {r["group_values"] for r in rows.values()} == {None}

    logins = [
        {"id": "a", "type": "login", "props": {"user_id": "u1", "region": "eu", "model-name": "m1"}},
        {"id": "b", "type": "login", "props": {"user_id": 7}},
        {"id": "c", "type": "login", "props": {"region": "eu"}},
    ]  # no user_id: not counted
    rows = run_model(GOLDEN_FILES["int_metric_events__active_users.sql"], logins)
    assert sorted(rows) == ["a", "b"]
    assert json.loads(rows["a"]["group_values"]) == {"region": "eu", "model-name": "m1"}
    assert json.loads(rows["b"]["group_values"]) == {"region": None, "model-name": None}
    assert (rows["a"]["unique_value"], rows["b"]["unique_value"]) == ("u1", "7")
    assert rows["a"]["metric_value"] is None


# -- escaping -------------------------------------------------------------------------------------


def test_quotes_in_values_are_escaped_string_literals(tmp_path):
    injection = "x') or ('1'='1"
    files = compile_yaml(
        tmp_path,
        f"""
billable_metrics:
  - name: irish_calls
    event_type: "o'clock"
    aggregation: count
    filters:
      - property: caller
        in: ["o'brien", "{injection}"]
""",
    )
    model = files["int_metric_events__irish_calls.sql"]

    # the engine escapes (DECISIONLOG D49): the compiler quotes nothing itself
    assert "event_type = {{ billing.string_literal('o\\'clock') }}" in model
    assert (
        "in ({{ billing.string_literal('o\\'brien') }}, {{ billing.string_literal('x\\') or (\\'1\\'=\\'1') }})"
        in model
    )
    assert "'o''clock'" not in model
    event_type, caller_in = matched_predicates(model)  # exactly two conditions: nothing injected
    assert event_type.expression.this == "o'clock"
    assert [v.this for v in caller_in.expressions] == ["o'brien", injection]

    rows = run_model(
        model,
        [
            {"id": "yes", "type": "o'clock", "props": {"caller": "o'brien"}},
            {"id": "literal", "type": "o'clock", "props": {"caller": injection}},
            {"id": "no", "type": "o'clock", "props": {"caller": "x"}},
            {"id": "missing", "type": "o'clock"},
        ],
    )
    assert sorted(rows) == ["literal", "yes"]


# The issue #16 values: on Spark a backslash escapes the quote that follows it, and 'O''Reilly' reads as OReilly.
SPARK_INJECTION = "\\' ) or 1=1 or p in ('') --"
AWKWARD_TEXTS = [
    "O'Reilly",
    SPARK_INJECTION,
    "C:\\temp\\",
    "a}} b {{ c",
    "#} {# %}",
    "tab\tnew\nline",
    "caf\u00e9 \u2603 \U0001f600",
    "\\\\'\\",
    "",
]


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_jinja_string_reads_back_as_the_text(text):
    literal = jinja_string(text)
    assert not any(marker in literal for marker in ("{{", "}}", "{%", "%}", "{#", "#}", "\n"))
    assert jinja2.Environment().from_string("{{ " + literal + " }}").render() == text


def _literal_macros() -> dict:
    """macros/literals.sql's engine variants, rendered by plain jinja."""
    source = (Path(__file__).resolve().parent.parent / "macros" / "literals.sql").read_text()
    module = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(source).make_module()
    return {"duckdb": module.default__sql_string_literal, "spark": module.spark__sql_string_literal}


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_string_literal_macro_escapes_for_each_engine(text):
    macros = _literal_macros()
    duckdb_literal = str(macros["duckdb"](text))
    # DuckDB: standard SQL, the quote doubled and the backslash itself
    assert duckdb.connect().execute(f"select {duckdb_literal}").fetchone()[0] == text
    # Spark: backslash then quote escaped with a backslash (the Spark parity test builds these on Spark)
    spark_literal = str(macros["spark"](text))
    assert spark_literal == "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert "''" not in spark_literal[1:-1]


def test_spark_injection_value_stays_one_literal(tmp_path):
    files = compile_yaml(
        tmp_path,
        yaml.safe_dump(
            {
                "billable_metrics": [
                    {
                        "name": "books",
                        "event_type": "sale",
                        "aggregation": "count",
                        "filters": [{"property": "publisher", "in": ["O'Reilly", SPARK_INJECTION]}],
                    }
                ]
            }
        ),
    )
    model = files["int_metric_events__books.sql"]
    calls = STRING_LITERAL.findall(model)
    texts = [jinja2.Environment().from_string("{{ " + c + " }}").render() for c in calls]
    assert texts == ["sale", "O'Reilly", SPARK_INJECTION, "books"]
    # outside the macro calls, the model quotes no text of the metric
    assert "Reilly" not in STRING_LITERAL.sub("", model) and "1=1" not in STRING_LITERAL.sub("", model)
    rows = run_model(
        model,
        [
            {"id": "oreilly", "type": "sale", "props": {"publisher": "O'Reilly"}},
            {"id": "oreilly_doubled", "type": "sale", "props": {"publisher": "OReilly"}},
            {"id": "other", "type": "sale", "props": {"publisher": "Manning"}},
        ],
    )
    assert sorted(rows) == ["oreilly"]


def test_description_text_does_not_break_the_schema_file(tmp_path):
    files = compile_yaml(
        tmp_path,
        """
billable_metrics:
  - name: calls
    description: "Calls: all of them, incl. 'quoted' ones"
    event_type: call
    aggregation: count
""",
    )
    schema = yaml.safe_load(files["_metrics__models.yml"])
    [model] = [m for m in schema["models"] if m["name"] == "int_metric_events__calls"]
    assert model["description"].endswith("Calls: all of them, incl. 'quoted' ones")


def test_multi_line_description_keeps_the_schema_file_valid(tmp_path):
    files = compile_yaml(
        tmp_path,
        """
billable_metrics:
  - name: calls
    description: |
      First line.
      key: value
    event_type: call
    aggregation: count
""",
    )
    schema = yaml.safe_load(files["_metrics__models.yml"])
    [model] = [m for m in schema["models"] if m["name"] == "int_metric_events__calls"]
    assert "First line." in model["description"] and "key: value" in model["description"]


# -- validation -----------------------------------------------------------------------------------


def metric_yaml(body: str) -> str:
    return "billable_metrics:\n" + body


INVALID = {
    "unknown aggregation": (
        "- {name: m1, event_type: e, aggregation: avg, property: x}",
        ["metric 'm1'", "unknown aggregation 'avg'"],
    ),
    "missing aggregation": ("- {name: m1, event_type: e}", ["metric 'm1'", "unknown aggregation None"]),
    "sum without property": (
        "- {name: m1, event_type: e, aggregation: sum}",
        ["metric 'm1'", "aggregation sum needs a property"],
    ),
    "count with property": (
        "- {name: m1, event_type: e, aggregation: count, property: x}",
        ["metric 'm1'", "aggregation count takes no property"],
    ),
    "both event types": (
        "- {name: m1, event_type: e, event_type_in: [f], aggregation: count}",
        ["metric 'm1'", "exactly one of event_type or event_type_in"],
    ),
    "no event type": (
        "- {name: m1, aggregation: count}",
        ["metric 'm1'", "exactly one of event_type or event_type_in"],
    ),
    "empty event_type_in": (
        "- {name: m1, event_type_in: [], aggregation: count}",
        ["metric 'm1'", "event_type_in must be a non-empty list"],
    ),
    "bad metric name": (
        "- {name: 'Tokens; drop table x', event_type: e, aggregation: count}",
        ["billable_metrics[0]", "'Tokens; drop table x' is not a valid identifier"],
    ),
    "missing name": (
        "- {event_type: e, aggregation: count}",
        ["billable_metrics[0]", "name None is not a valid identifier"],
    ),
    "quote in property": (
        '- {name: m1, event_type: e, aggregation: sum, property: "a\'b"}',
        ["metric 'm1'", 'property name "a\'b" is not valid'],
    ),
    "JSON path characters in property": (  # a JSON path ($."name" on DuckDB, $.name on Spark) is not escaped
        "- {name: m1, event_type: e, aggregation: sum, property: 'a]b'}",
        ["metric 'm1'", "property name 'a]b' is not valid"],
    ),
    "dot in group key": (
        "- {name: m1, event_type: e, aggregation: count, group_keys: ['a.b']}",
        ["metric 'm1': group_keys", "property name 'a.b' is not valid"],
    ),
    "sql in filter property": (
        "- {name: m1, event_type: e, aggregation: count, filters: [{property: 'x) or (1=1', in: [a]}]}",
        ["metric 'm1': filters[0]", "property name 'x) or (1=1' is not valid"],
    ),
    "sql in group key": (
        "- {name: m1, event_type: e, aggregation: count, group_keys: ['a, b']}",
        ["metric 'm1': group_keys", "property name 'a, b' is not valid"],
    ),
    "filter without test": (
        "- {name: m1, event_type: e, aggregation: count, filters: [{property: region}]}",
        ["metric 'm1': filters[0]", "needs one of in, not_in or exists"],
    ),
    "filter with empty in": (
        "- {name: m1, event_type: e, aggregation: count, filters: [{property: region, in: []}]}",
        ["metric 'm1': filters[0]: in", "must be a non-empty list"],
    ),
    "filter exists not boolean": (
        "- {name: m1, event_type: e, aggregation: count, filters: [{property: region, exists: 'yes'}]}",
        ["metric 'm1': filters[0]", "exists must be true or false"],
    ),
    "filter unknown key": (
        "- {name: m1, event_type: e, aggregation: count, filters: [{property: region, equals: eu}]}",
        ["metric 'm1': filters[0]", "unknown key(s) equals"],
    ),
    "filter value not scalar": (
        "- {name: m1, event_type: e, aggregation: count, filters: [{property: region, in: [[eu]]}]}",
        ["metric 'm1': filters[0]: in", "values must be strings, numbers or booleans"],
    ),
    "filters not a list": (
        "- {name: m1, event_type: e, aggregation: count, filters: {property: region, in: [eu]}}",
        ["metric 'm1'", "filters must be a list"],
    ),
    "unknown key": (
        "- {name: m1, event_type: e, aggregation: count, aggregate: sum}",
        ["metric 'm1'", "unknown key(s) aggregate"],
    ),
    "sql with structured keys": (
        "- {name: m1, sql: 'select count(*) as value from events', aggregation: count}",
        ["metric 'm1'", "sql excludes the structured keys (aggregation)"],
    ),
    "sql not a select": (
        "- {name: m1, sql: 'delete from events'}",
        ["metric 'm1'", "SQL must be a SELECT, got DELETE"],
    ),
    "group_keys not a list": (
        "- {name: m1, event_type: e, aggregation: unique, property: u, group_keys: region}",
        ["metric 'm1'", "group_keys must be a list"],
    ),
    "group_keys repeated": (
        "- {name: m1, event_type: e, aggregation: unique, property: u, group_keys: [region, region]}",
        ["metric 'm1'", "group_keys repeat a property"],
    ),
    "duplicate names": (
        "- {name: m1, event_type: e, aggregation: count}\n- {name: m1, event_type: f, aggregation: count}",
        ["metric 'm1' is defined twice"],
    ),
    "metric not a mapping": ("- just_a_name", ["billable_metrics[0] must be a mapping"]),
}


@pytest.mark.parametrize("body,fragments", INVALID.values(), ids=INVALID.keys())
def test_invalid_definitions_name_the_metric_and_the_problem(tmp_path, body, fragments):
    path = tmp_path / "billable_metrics.yml"
    path.write_text(metric_yaml(body))

    with pytest.raises(BillingError) as e:
        load_metrics(path)

    message = str(e.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "text,problem",
    [
        ("billable_metrics: [\n  - {name: m1\n", "not valid YAML"),
        ("billable_metrics: {name: m1}\n", "expected a top-level 'billable_metrics:' list"),
        ("- {name: m1}\n", "expected a top-level 'billable_metrics:' list"),
    ],
)
def test_malformed_files_are_refused(tmp_path, text, problem):
    path = tmp_path / "billable_metrics.yml"
    path.write_text(text)
    with pytest.raises(BillingError, match=re.escape(problem)) as e:
        load_metrics(path)
    assert str(path) in str(e.value)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(BillingError, match="file not found"):
        load_metrics(tmp_path / "nope.yml")


def test_empty_file_has_no_metrics_and_an_empty_union(tmp_path):
    files = compile_yaml(tmp_path, "billable_metrics: []\n")
    assert not any(n.startswith("int_metric_events__") for n in files)
    assert "{{ billing.empty_metric_events() }}" in files["int_metric_events.sql"]


def test_aggregation_is_case_insensitive_and_names_are_rendered(tmp_path):
    files = compile_yaml(tmp_path, metric_yaml("- {name: m1, event_type: e, aggregation: SUM, property: n}"))
    model = files["int_metric_events__m1.sql"]
    assert "'sum' as aggregation" in model
    assert "{{ billing.string_literal('m1') }} as billable_metric" in model
    assert "{{ ref('int_events_to_meter') }}" in model


def test_each_metric_renders_on_its_own():
    # no hidden dependency on the other metrics of the file
    for metric in load_metrics(GOLDEN / "metrics.yml"):
        if metric.sql is None:
            assert render_metric_model(metric) == GOLDEN_FILES[f"{metric.model_name}.sql"]
        else:
            for name, content in render_sql_metric_models(metric).items():
                assert content == GOLDEN_FILES[name]


def test_yaml_12_booleans_keep_country_codes_as_strings(tmp_path):
    files = compile_yaml(
        tmp_path,
        """
billable_metrics:
  - name: calls
    event_type: call
    aggregation: count
    filters:
      - {property: country, in: [NO, SE, yes, on]}
      - {property: is_test, not_in: [true]}
""",
    )
    sql = plain_sql(files["int_metric_events__calls.sql"])
    assert "in ('NO', 'SE', 'yes', 'on')" in sql
    assert "not_in" not in sql and "in ('true')" in sql


@pytest.mark.parametrize("value", ["Hello {{ name }}", "{% if x %}", "{# note"])
def test_jinja_markers_in_values_are_refused(tmp_path, value):
    path = tmp_path / "billable_metrics.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "billable_metrics": [
                    {
                        "name": "calls",
                        "event_type": "call",
                        "aggregation": "count",
                        "filters": [{"property": "p", "in": [value]}],
                    }
                ]
            }
        )
    )
    with pytest.raises(BillingError, match="metric 'calls'.*may not contain"):
        load_metrics(path)


@pytest.mark.parametrize("marker", ["{#", "{{", "{%", "#}"])
@pytest.mark.parametrize("kind", ["structured", "sql"])
def test_jinja_markers_in_descriptions_are_refused(tmp_path, marker, kind):
    # the description goes into the generated schema file, which dbt renders as jinja: `{# a note` there
    # passed `billing compile` and then broke every build
    metric = {"name": "calls", "description": f"Calls {marker} of the month"}
    if kind == "sql":
        metric["sql"] = "select count(*) as value from events where event_type = 'call'"
    else:
        metric.update({"event_type": "call", "aggregation": "count"})
    path = tmp_path / "billable_metrics.yml"
    path.write_text(yaml.safe_dump({"billable_metrics": [metric]}))
    with pytest.raises(BillingError, match="metric 'calls': description .*may not contain"):
        load_metrics(path)


@pytest.mark.parametrize("field", ["event_type", "in", "not_in"])
def test_jinja_comment_end_in_values_is_refused(tmp_path, field):
    metric = {"name": "calls", "event_type": "a #} b" if field == "event_type" else "call", "aggregation": "count"}
    if field != "event_type":
        metric["filters"] = [{"property": "p", field: ["x #} y"]}]
    path = tmp_path / "billable_metrics.yml"
    path.write_text(yaml.safe_dump({"billable_metrics": [metric]}))
    with pytest.raises(BillingError, match=f"metric 'calls'.*{field}.*may not contain"):
        load_metrics(path)
