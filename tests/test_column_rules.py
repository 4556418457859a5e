"""The column_rules generic test (macros/column_rules.sql): one test node per model for its not-null,
unique, unique-combination and accepted-values rules. It must fail on each broken rule, count as dbt's
own not_null / unique / accepted_values tests do (each is declared beside it on the same rows here
and must report the same number), and pass rows that keep every rule (nulls where a rule allows them).
"""

from __future__ import annotations

import re

RULES = """
            primary_key: id
            not_null: [name]
            unique: [grp]
            unique_combination: [grp, status]
            accepted_values: {status: [DRAFT, FINALIZED]}
"""
# every row in its own line: id, name, grp, status
BROKEN = """(1, 'a', 'x', 'DRAFT'),
    (1, null, 'x', 'BOGUS'),
    (null, 'b', 'y', null),
    (3, 'c', 'y', null),
    (4, 'd', 'z', 'ODD')"""
WHOLE = """(1, 'a', 'x', 'DRAFT'),
    (2, 'b', null, null),
    (3, 'c', null, 'FINALIZED'),
    (4, 'd', 'y', null)"""
# what column_rules reports on BROKEN, counted by hand; the dbt test giving the same count
EXPECTED = {
    "not_null(id)": (1, "not_null_column_rules_broken_id"),  # the row with a null id
    "unique(id)": (1, "unique_column_rules_broken_id"),  # one id (1) repeated
    "not_null(name)": (1, "not_null_column_rules_broken_name"),
    "unique(grp)": (2, "unique_column_rules_broken_grp"),  # x and y repeated
    "unique_combination(grp, status)": (1, None),  # (y, null) twice: nulls compare equal
    "accepted_values(status)": (2, "accepted_values_column_rules_broken_status__DRAFT__FINALIZED"),  # BOGUS, ODD
}


def fixture_model(name: str, rows: str) -> str:
    return f"select * from (values\n    {rows}\n) as fixture (id, name, grp, status)\n"


def fixture_yaml() -> str:
    models = []
    for name in ("column_rules_broken", "column_rules_whole"):
        models.append(
            f"""  - name: {name}
    data_tests:
      - column_rules:
          arguments:{RULES}"""
        )
    # dbt's own tests on the broken rows: the counts column_rules must match
    models[0] += """    columns:
      - name: id
        data_tests: [not_null, unique]
      - name: name
        data_tests: [not_null]
      - name: grp
        data_tests: [unique]
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: [DRAFT, FINALIZED]
"""
    return "version: 2\nmodels:\n" + "\n".join(models)


def test_column_rules_fail_each_broken_rule_as_dbt_counts_and_pass_whole_rows(make_project):
    p = make_project()
    folder = p.dir / "models" / "column_rules_fixture"
    folder.mkdir()
    (folder / "column_rules_broken.sql").write_text(fixture_model("column_rules_broken", BROKEN))
    (folder / "column_rules_whole.sql").write_text(fixture_model("column_rules_whole", WHOLE))
    (folder / "_column_rules_fixture__models.yml").write_text(fixture_yaml())

    result = p.build(select="column_rules_fixture", expect_success=False, column_rules=True)
    assert not result.success

    failures = [problem for problem in result.problems if "column_rules_column_rules_broken" in problem]
    assert len(failures) == 1, result.describe()
    reported = {check: int(n) for check, n in re.findall(r"failed_check=(.+?), failing_rows=(\d+)", failures[0])}
    assert reported == {check: n for check, (n, _) in EXPECTED.items()}, failures[0]

    dbt_counts = {}
    for problem in result.problems:
        found = re.match(r"- test (\S+): Got (\d+) results?", problem)
        if found and not found.group(1).startswith("column_rules_"):
            dbt_counts[found.group(1)] = int(found.group(2))
    assert dbt_counts == {test: n for n, test in EXPECTED.values() if test}, result.describe()

    assert not [problem for problem in result.problems if "column_rules_whole" in problem], result.describe()
    assert result.counts.get("pass") == 1  # the whole rows' test


def test_tested_batch_rules_read_the_last_batch_and_rows_without_a_loaded_at(make_project):
    """`tested_batch: true` (an event-grain model, D90) checks the rows loaded after the last batch's
    start (billing_event_batches of int_events_deduplicated) and those without a loaded_at; a broken
    row of an earlier batch, which a build does not rewrite, is not read again. After a full build
    (no batch start recorded) every row is checked."""
    p = make_project()
    folder = p.dir / "models" / "column_rules_fixture"
    folder.mkdir()
    (folder / "column_rules_batch.sql").write_text(
        "select * from (values\n"
        "    (cast('2025-01-01 00:00:00' as timestamp), 'BOGUS', 'a'),\n"  # an earlier batch's
        "    (cast('2025-01-03 00:00:00' as timestamp), 'ODD', null),\n"  # this batch's: two broken rules
        "    (cast('2025-01-03 00:00:00' as timestamp), 'DRAFT', 'b'),\n"
        "    (cast(null as timestamp), 'WRONG', 'c')\n"  # no loaded_at: always tested
        ") as fixture (loaded_at, status, name)\n"
    )
    (folder / "_column_rules_fixture__models.yml").write_text(
        "version: 2\nmodels:\n  - name: column_rules_batch\n    data_tests:\n      - column_rules:\n"
        "          arguments:\n            tested_batch: true\n            not_null: [name]\n"
        "            accepted_values: {status: [DRAFT, FINALIZED]}\n"
    )

    def reported() -> dict[str, int]:
        result = p.build(select="column_rules_fixture", expect_success=False, column_rules=True)
        [failure] = [problem for problem in result.problems if "column_rules_column_rules_batch" in problem]
        return {check: int(n) for check, n in re.findall(r"failed_check=(.+?), failing_rows=(\d+)", failure)}

    # no batch recorded (a first or full build): every row
    assert reported() == {"not_null(name)": 1, "accepted_values(status)": 3}
    p.query(
        "insert into main.billing_event_batches (model_name, batch_loaded_after) "
        "values ('int_events_deduplicated', '2025-01-02 00:00:00')"
    )
    assert reported() == {"not_null(name)": 1, "accepted_values(status)": 2}
