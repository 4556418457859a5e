"""Landing event files into raw.usage_events (billing_cli.ingest), without dbt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from billing_cli.db import connect
from billing_cli.errors import BillingError
from billing_cli.ingest import describe, ingest

LOADED_AT = datetime(2025, 3, 1, 12, 0, 0)
CSV_HEADER = "transaction_id,customer_id,event_type,timestamp,properties\n"


def event(tid: str, **extra) -> dict:
    return {
        "transaction_id": tid,
        "customer_id": "cus_1",
        "event_type": "api_call",
        "timestamp": "2025-01-05T10:00:00Z",
        **extra,
    }


def write_jsonl(path: Path, lines: list) -> Path:
    """Dicts are written as JSON, strings verbatim."""
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))
    return path


def rows(db: Path, where: str = "true") -> dict[str, dict]:
    """raw.usage_events rows keyed by transaction_id (or by file:line for rows without one)."""
    con = connect(db)
    try:
        cursor = con.execute(f"select * from raw.usage_events where {where} order by source_file, source_line")
        names = [d[0] for d in cursor.description]
        result = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    return {r["transaction_id"] or f"{Path(r['source_file']).name}:{r['source_line']}": r for r in result}


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "billing.duckdb"


# -- JSONL ------------------------------------------------------------------------------------


def test_jsonl_lands_events_unreadable_lines_and_counts_blank_lines(tmp_path, db):
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            event("t1", properties={"units": 5, "region": "eu"}),  # line 1
            event("t2", properties='{"units": 3}'),  # line 2: a string holding an object
            "",  # line 3: blank
            '{"transaction_id": "t9",',  # line 4: invalid JSON
            "[1, 2]",  # line 5: JSON, not an object
            "   ",  # line 6: blank (whitespace)
            event("t3"),  # line 7: no properties
        ],
    )

    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert summary.rows == 5
    assert summary.files[0].unreadable_lines == [4, 5]
    assert summary.unreadable == 2
    assert summary.blank_lines == 2
    text = describe(summary)
    assert "Loaded 5 rows from 1 file(s)" in text
    assert "line(s) 4, 5 could not be read" in text
    assert "2 blank line(s) skipped" in text

    landed = rows(db)
    assert set(landed) == {"t1", "t2", "t3", "events.jsonl:4", "events.jsonl:5"}
    assert json.loads(landed["t1"]["properties"]) == {"units": 5, "region": "eu"}
    assert landed["t2"]["properties"] == '{"units": 3}'  # the object's text, not a quoted JSON string
    assert landed["t3"]["properties"] is None
    assert landed["t1"]["timestamp"] == "2025-01-05T10:00:00Z"
    assert (landed["t1"]["customer_id"], landed["t1"]["event_type"]) == ("cus_1", "api_call")

    bad_json, not_object = landed["events.jsonl:4"], landed["events.jsonl:5"]
    assert bad_json["ingest_error"] == "line is not valid JSON"
    assert bad_json["properties"] == '{"transaction_id": "t9",'
    assert not_object["ingest_error"] == "line is not a JSON object"
    assert not_object["properties"] == "[1, 2]"
    assert {r["ingest_error"] for k, r in landed.items() if k.startswith("t")} == {None}

    assert {k: r["source_line"] for k, r in landed.items()} == {
        "t1": 1,
        "t2": 2,
        "events.jsonl:4": 4,
        "events.jsonl:5": 5,
        "t3": 7,
    }
    assert {r["source_file"] for r in landed.values()} == {str(path)}
    assert {r["loaded_at"] for r in landed.values()} == {LOADED_AT}


def test_invalid_utf8_line_is_landed_with_an_error(tmp_path, db):
    path = tmp_path / "events.ndjson"
    path.write_bytes(json.dumps(event("t1")).encode() + b"\n" + b'{"transaction_id": "t\xff2"}\n')

    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert summary.files[0].unreadable_lines == [2]
    errors = {r["source_line"]: r["ingest_error"] for r in rows(db).values()}
    assert errors == {1: None, 2: "line is not valid UTF-8"}


# -- CSV --------------------------------------------------------------------------------------


def test_csv_lands_rows_with_header_offset_line_numbers(tmp_path, db):
    path = tmp_path / "events.csv"
    path.write_text(
        CSV_HEADER + 't1,cus_1,api_call,2025-01-05T10:00:00Z,"{""units"": 2}"\n' + "007,cus_2,api_call,2025-01-06,\n"
    )

    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert summary.rows == 2
    landed = rows(db)
    assert landed["t1"]["properties"] == '{"units": 2}'
    assert landed["t1"]["source_line"] == 2  # line 1 is the header
    assert landed["007"]["source_line"] == 3  # read as text: leading zeros kept
    assert landed["007"]["timestamp"] == "2025-01-06"
    assert landed["007"]["properties"] is None
    assert landed["007"]["source_file"] == str(path)


def test_csv_with_unknown_column_is_refused_naming_file_and_column(tmp_path, db):
    path = tmp_path / "extra.csv"
    path.write_text("transaction_id,customer_id,event_type,timestamp,units\nt1,c,e,2025-01-01,3\n")

    with pytest.raises(BillingError) as e:
        ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert str(path) in str(e.value)
    assert "unknown column(s) units" in str(e.value)


def test_csv_missing_required_column_is_refused_naming_file_and_column(tmp_path, db):
    path = tmp_path / "missing.csv"
    path.write_text("transaction_id,customer_id,timestamp\nt1,c,2025-01-01\n")

    with pytest.raises(BillingError) as e:
        ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert str(path) in str(e.value)
    assert "missing column(s) event_type" in str(e.value)


def test_a_failing_file_lands_nothing_from_the_same_call(tmp_path, db):
    good = write_jsonl(tmp_path / "good.jsonl", [event("t1")])
    bad = tmp_path / "bad.csv"
    bad.write_text("transaction_id,customer_id,event_type,timestamp,units\nt2,c,e,2025-01-01,3\n")

    with pytest.raises(BillingError):
        ingest(db, [str(good), str(bad)], loaded_at=LOADED_AT)

    assert rows(db) == {}


# -- Parquet ----------------------------------------------------------------------------------


def test_parquet_timestamptz_and_struct_properties(tmp_path, db):
    eastern = timezone(timedelta(hours=-5))
    table = pa.table(
        {
            "transaction_id": ["p1", "p2"],
            "customer_id": ["cus_1", "cus_1"],
            "event_type": ["api_call", "api_call"],
            "timestamp": pa.array(
                [
                    datetime(2025, 1, 31, 23, 30, tzinfo=eastern),
                    datetime(2025, 2, 1, 1, 2, 3, 456000, tzinfo=UTC),
                ],
                type=pa.timestamp("us", tz="UTC"),
            ),
            "properties": pa.array([{"units": 5, "region": "eu"}, {"units": None, "region": "us"}]),
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)

    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert summary.rows == 2
    landed = rows(db)
    # 23:30 at -05:00 is 04:30 UTC the next day
    assert landed["p1"]["timestamp"] == "2025-02-01T04:30:00.000000Z"
    assert landed["p2"]["timestamp"] == "2025-02-01T01:02:03.456000Z"
    assert json.loads(landed["p1"]["properties"]) == {"units": 5, "region": "eu"}
    assert json.loads(landed["p2"]["properties"]) == {"units": None, "region": "us"}
    assert [landed["p1"]["source_line"], landed["p2"]["source_line"]] == [1, 2]
    assert landed["p1"]["ingest_error"] is None


def test_parquet_without_properties_column_and_non_text_ids(tmp_path, db):
    path = tmp_path / "events.pq"
    pq.write_table(
        pa.table(
            {
                "transaction_id": pa.array([42], type=pa.int64()),
                "customer_id": ["cus_1"],
                "event_type": ["api_call"],
                "timestamp": ["2025-01-05 10:00:00"],
            }
        ),
        path,
    )

    ingest(db, [str(path)], loaded_at=LOADED_AT)

    landed = rows(db)
    assert list(landed) == ["42"]
    assert landed["42"]["properties"] is None
    assert landed["42"]["timestamp"] == "2025-01-05 10:00:00"


# -- paths, globs and loads -------------------------------------------------------------------


def test_glob_lands_every_matching_file_in_one_load(tmp_path, db):
    folder = tmp_path / "incoming"
    (folder / "2025-02").mkdir(parents=True)
    write_jsonl(folder / "a.jsonl", [event("a1"), event("a2")])
    write_jsonl(folder / "b.jsonl", [event("b1")])
    write_jsonl(folder / "2025-02" / "c.jsonl", [event("c1")])
    (folder / "d.csv").write_text(CSV_HEADER + "d1,cus_1,api_call,2025-01-05,\n")

    summary = ingest(db, [str(folder / "**" / "*.jsonl"), str(folder / "*.csv")])

    assert sorted(Path(f.path).name for f in summary.files) == ["a.jsonl", "b.jsonl", "c.jsonl", "d.csv"]
    assert summary.rows == 5
    landed = rows(db)
    assert set(landed) == {"a1", "a2", "b1", "c1", "d1"}
    # loaded_at defaults to now (UTC, naive) and is shared by every row of the call
    assert {r["loaded_at"] for r in landed.values()} == {summary.loaded_at}
    assert abs(summary.loaded_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=5)


def test_each_call_is_its_own_load(tmp_path, db):
    first = write_jsonl(tmp_path / "first.jsonl", [event("t1"), event("t2")])
    second = write_jsonl(tmp_path / "second.jsonl", [event("t3")])

    ingest(db, [str(first)], loaded_at=LOADED_AT)
    ingest(db, [str(second)], loaded_at=LOADED_AT + timedelta(hours=1))

    assert {k: r["loaded_at"] for k, r in rows(db).items()} == {
        "t1": LOADED_AT,
        "t2": LOADED_AT,
        "t3": LOADED_AT + timedelta(hours=1),
    }


def test_glob_matching_nothing_is_an_error_naming_the_pattern(tmp_path, db):
    write_jsonl(tmp_path / "a.jsonl", [event("a1")])
    pattern = str(tmp_path / "*.parquet")

    with pytest.raises(BillingError, match="no file matches") as e:
        ingest(db, [str(tmp_path / "a.jsonl"), pattern])

    assert pattern in str(e.value)
    assert not db.exists()  # refused before opening the database


def test_missing_file_is_an_error(tmp_path, db):
    with pytest.raises(BillingError, match="no such file") as e:
        ingest(db, [str(tmp_path / "nope.jsonl")])
    assert "nope.jsonl" in str(e.value)


def test_unsupported_extension_is_an_error(tmp_path, db):
    path = tmp_path / "events.txt"
    path.write_text(json.dumps(event("t1")) + "\n")

    with pytest.raises(BillingError, match="unsupported file type") as e:
        ingest(db, [str(path)])

    assert str(path) in str(e.value)


def test_a_file_named_twice_in_one_call_is_landed_once(tmp_path, db):
    path = write_jsonl(tmp_path / "a.jsonl", [event("t1"), "not json"])

    summary = ingest(db, [str(path), str(tmp_path / "*.jsonl")], loaded_at=LOADED_AT)

    assert summary.rows == 2
    assert summary.unreadable == 1


def test_null_properties_land_as_none_like_absent_ones(tmp_path, db):
    """`"properties": null` is the same as no properties (NULL; staging reads it as {}), not the text 'null'."""
    path = write_jsonl(tmp_path / "e.jsonl", [event("t1", properties=None), event("t2")])
    ingest(db, [str(path)], loaded_at=LOADED_AT)
    landed = rows(db)
    assert landed["t1"]["properties"] is None and landed["t2"]["properties"] is None
    assert landed["t1"]["ingest_error"] is None


def test_parquet_rows_are_numbered_by_file_order(tmp_path, db):
    path = tmp_path / "e.parquet"
    pq.write_table(
        pa.table(
            {
                "transaction_id": [f"t{i}" for i in range(1, 6)],
                "customer_id": ["c"] * 5,
                "event_type": ["x"] * 5,
                "timestamp": ["2025-01-01T00:00:00Z"] * 5,
                "properties": ["{}"] * 5,
            }
        ),
        path,
    )
    ingest(db, [str(path)], loaded_at=LOADED_AT)
    assert {tid: r["source_line"] for tid, r in rows(db).items()} == {f"t{i}": i for i in range(1, 6)}


def test_byte_order_mark_does_not_cost_the_first_event(tmp_path, db):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(event("t1")) + "\n" + json.dumps(event("t2")) + "\n").encode())
    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)
    assert summary.unreadable == 0
    assert set(rows(db)) == {"t1", "t2"}


def test_csv_ragged_rows_are_landed_with_an_error_and_the_good_rows_kept(tmp_path, db):
    # one row with 2 fields and one with 7 used to refuse the whole file ("missing column(s) transaction_id")
    path = tmp_path / "ragged.csv"
    path.write_text(
        CSV_HEADER
        + "t1,cus_1,api_call,2025-01-05T10:00:00Z,\n"
        + "t2,cus_1\n"
        + 't3,cus_1,api_call,2025-01-05,"{""note"": ""two\nlines""}"\n'
        + "t4,cus_1,api_call,2025-01-05,{},extra,more\n"
        + "\n"
        + "t5,cus_1,api_call,2025-01-06,\n"
    )

    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)

    assert summary.rows == 5 and summary.blank_lines == 1
    assert summary.files[0].unreadable_lines == [3, 6]
    landed = rows(db)
    assert {tid: landed[tid]["source_line"] for tid in ("t1", "t3", "t5")} == {"t1": 2, "t3": 4, "t5": 8}
    assert landed["t3"]["properties"] == '{"note": "two\nlines"}'
    assert landed["ragged.csv:3"]["ingest_error"] == "line has 2 fields, the header 5"
    assert landed["ragged.csv:3"]["properties"] == "t2,cus_1"
    assert landed["ragged.csv:6"]["ingest_error"] == "line has 7 fields, the header 5"
    assert landed["ragged.csv:6"]["customer_id"] is None
    assert "3, 6 could not be read" in describe(summary)


def test_csv_invalid_utf8_line_is_landed_with_an_error(tmp_path, db):
    path = tmp_path / "latin1.csv"
    path.write_bytes(CSV_HEADER.encode() + b"t1,cus_1,api_call,2025-01-05,\nt\xe92,cus_1,api_call,2025-01-05,\n")
    summary = ingest(db, [str(path)], loaded_at=LOADED_AT)
    assert summary.files[0].unreadable_lines == [3]
    assert rows(db)["latin1.csv:3"]["ingest_error"] == "line is not valid UTF-8"
