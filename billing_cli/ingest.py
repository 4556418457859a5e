"""Landing usage events into raw.usage_events (JSONL, CSV, Parquet).

Landing never validates data away: an unreadable JSONL line (not JSON, not an object, not UTF-8)
or CSV row (not UTF-8, or not as many fields as the header) is landed with `ingest_error` set (and,
when it is not a JSON object or a CSV row of the header's width, its text in `properties`), so that
the build rejects it with a reason; blank lines are counted and reported. Every row of one run gets
the same `loaded_at` (one load).
"""

from __future__ import annotations

import contextlib
import csv
import glob
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from .db import connect
from .errors import BillingError
from .names import CREATE_RAW, EVENT_FIELDS, LOADER_COLUMNS, RAW_COLUMNS

INSERT_INTO_RAW = "insert into raw.usage_events (" + ", ".join('"' + c + '"' for c in RAW_COLUMNS) + ")"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
BATCH_LINES = 250_000


@dataclass
class FileResult:
    path: str
    rows: int = 0
    unreadable_lines: list[int] = field(default_factory=list)
    blank_lines: int = 0


@dataclass
class IngestSummary:
    loaded_at: datetime
    files: list[FileResult] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def unreadable(self) -> int:
        return sum(len(f.unreadable_lines) for f in self.files)

    @property
    def blank_lines(self) -> int:
        return sum(f.blank_lines for f in self.files)


def expand_paths(patterns: list[str]) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?[") and not Path(pattern).is_file():
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise BillingError(f"{pattern}: no file matches")
            paths.extend(Path(m) for m in matches if Path(m).is_file())
        else:
            path = Path(pattern)
            if not path.is_file():
                raise BillingError(f"{pattern}: no such file")
            paths.append(path)
    # a file named twice (by name and by a glob) is landed once
    paths = list({path.resolve(): path for path in paths}.values())
    for path in paths:
        if path.suffix.lower() not in JSONL_SUFFIXES + CSV_SUFFIXES + PARQUET_SUFFIXES:
            raise BillingError(f"{path}: unsupported file type (expected .jsonl, .ndjson, .json, .csv or .parquet)")
    return paths


# A readable line is a JSON object; its properties may be an object or a string holding one.
_INSERT_JSON_BATCH = (
    INSERT_INTO_RAW
    + """
with lines as (
    select
        line_no,
        line,
        bad_utf8,
        case when json_valid(line) then json_type(line) = 'OBJECT' else false end as is_object,
        coalesce(json_valid(line), false) as is_json
    from batch
)
select
    case when is_object then json_extract_string(line, '$.transaction_id') end,
    case when is_object then json_extract_string(line, '$.customer_id') end,
    case when is_object then json_extract_string(line, '$.event_type') end,
    case when is_object then json_extract_string(line, '$.timestamp') end,
    case
        when not is_object then line
        when json_type(json_extract(line, '$.properties')) = 'NULL' then null
        when json_type(json_extract(line, '$.properties')) = 'VARCHAR' then json_extract_string(line, '$.properties')
        else cast(json_extract(line, '$.properties') as varchar)
    end,
    ?,
    ?,
    line_no,
    case
        when bad_utf8 then 'line is not valid UTF-8'
        when not is_json then 'line is not valid JSON'
        when not is_object then 'line is not a JSON object'
    end
from lines
"""
)


def _ingest_jsonl(
    con, path: Path, loaded_at: datetime, result: FileResult, progress: Callable[[str], None] | None
) -> None:
    line_nos: list[int] = []
    texts: list[str] = []
    bad_utf8: list[bool] = []

    def flush():
        if not line_nos:
            return
        batch = pa.table({"line_no": line_nos, "line": texts, "bad_utf8": bad_utf8})
        con.register("batch", batch)
        con.execute(_INSERT_JSON_BATCH, [loaded_at, str(path)])
        con.unregister("batch")
        result.rows += len(line_nos)
        line_nos.clear(), texts.clear(), bad_utf8.clear()

    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark is not part of the first record
            stripped = raw.strip()
            if not stripped:
                result.blank_lines += 1
                continue
            try:
                text, bad = stripped.decode("utf-8"), False
            except UnicodeDecodeError:
                text, bad = stripped.decode("utf-8", errors="replace"), True
            line_nos.append(line_no)
            texts.append(text)
            bad_utf8.append(bad)
            if len(line_nos) >= BATCH_LINES:
                flush()
                if progress:
                    progress(f"  {path}: {result.rows:,} rows")
        flush()
    result.unreadable_lines = _unreadable_lines(con, loaded_at, path)


def _unreadable_lines(con, loaded_at: datetime, path: Path) -> list[int]:
    """The line numbers of this load's rows from `path` that the loader could not read."""
    return [
        r[0]
        for r in con.execute(
            "select source_line from raw.usage_events where loaded_at = ? and source_file = ? "
            "and ingest_error is not null order by source_line",
            [loaded_at, str(path)],
        ).fetchall()
    ]


def _check_columns(columns, path: Path) -> None:
    missing = [c for c in EVENT_FIELDS if c not in columns and c != "properties"]
    if missing:
        raise BillingError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(EVENT_FIELDS)})")
    unknown = sorted(set(columns) - set(EVENT_FIELDS))
    if unknown:
        raise BillingError(
            f"{path}: unknown column(s) {', '.join(unknown)} "
            f"(expected {', '.join(EVENT_FIELDS)}; put event data in properties)"
        )


def _select_columns(con, relation_sql: str, path: Path) -> dict[str, str]:
    described = con.execute(f"describe select * from {relation_sql}").fetchall()
    columns = {row[0].lower(): row[1].upper() for row in described if row[0].lower() != "file_row_number"}
    _check_columns(columns, path)
    return columns


_INSERT_CSV_BATCH = (
    INSERT_INTO_RAW
    + """
select transaction_id, customer_id, event_type, timestamp, properties, ?, ?, line_no, ingest_error from batch
"""
)


def _csv_records(fh, result: FileResult):
    """(first line number, fields, raw text, bad UTF-8) per CSV record; blank lines are counted, not yielded.
    A quoted field may span lines: the record is numbered by its first line."""
    consumed: list[str] = []
    bad = [False]

    def lines():
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark is not part of the header
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text, bad[0] = raw.decode("utf-8", errors="replace"), True
            consumed.append(text)
            yield text

    source = lines()
    header = next(source, "")
    dialect = max(",;\t|", key=header.count)
    reader = csv.reader(source, delimiter=dialect, strict=False)
    yield 1, next(csv.reader([header], delimiter=dialect), []), header, bad[0]
    last_line = 1
    for fields in reader:
        text, first_line, last_line = "".join(consumed[1:]), last_line + 1, reader.line_num + 1
        is_bad, bad[0] = bad[0], False
        del consumed[1:]
        if not fields:
            result.blank_lines += 1
            continue
        yield first_line, fields, text.rstrip("\r\n"), is_bad


def _ingest_csv(
    con, path: Path, loaded_at: datetime, result: FileResult, progress: Callable[[str], None] | None
) -> None:
    """CSV by header name, every value as text (an empty cell is NULL). A row that is not UTF-8 or has
    more or fewer fields than the header is landed with its text in `properties` and an ingest_error,
    like an unreadable JSONL line, and the rest of the file lands (DECISIONLOG D47)."""
    batch: dict[str, list] = {c: [] for c in (*EVENT_FIELDS, "line_no", "ingest_error")}

    def flush():
        if not batch["line_no"]:
            return
        con.register(
            "batch",
            pa.table({c: pa.array(v, type=pa.int64() if c == "line_no" else pa.string()) for c, v in batch.items()}),
        )
        con.execute(_INSERT_CSV_BATCH, [loaded_at, str(path)])
        con.unregister("batch")
        result.rows += len(batch["line_no"])
        for values in batch.values():
            values.clear()

    with open(path, "rb") as fh:
        records = _csv_records(fh, result)
        _, header, _, _ = next(records)
        names = [name.strip().lower() for name in header]
        _check_columns(names, path)
        for line_no, fields, text, bad_utf8 in records:
            if bad_utf8:
                error = "line is not valid UTF-8"
            elif len(fields) != len(names):
                error = f"line has {len(fields)} field{'s' if len(fields) != 1 else ''}, the header {len(names)}"
            else:
                error = None
            row = dict(zip(names, fields, strict=True)) if error is None else {"properties": text}
            for column in EVENT_FIELDS:
                batch[column].append(row.get(column) or None)
            batch["line_no"].append(line_no)
            batch["ingest_error"].append(error)
            if len(batch["line_no"]) >= BATCH_LINES:
                flush()
                if progress:
                    progress(f"  {path}: {result.rows:,} rows")
        flush()
    result.unreadable_lines = _unreadable_lines(con, loaded_at, path)


def _text(column: str, sql_type: str) -> str:
    quoted = f'"{column}"'
    if sql_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"strftime(timezone('UTC', {quoted}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if sql_type in ("VARCHAR", "JSON"):
        return f"cast({quoted} as varchar)"
    if sql_type.startswith(("STRUCT", "MAP")) or sql_type.endswith("[]"):
        return f"cast(to_json({quoted}) as varchar)"
    return f"cast({quoted} as varchar)"


def _ingest_table(con, path: Path, relation_sql: str, line_sql: str, loaded_at: datetime, result: FileResult) -> None:
    columns = _select_columns(con, relation_sql, path)
    exprs = [_text(c, columns[c]) if c in columns else "cast(null as varchar)" for c in EVENT_FIELDS]
    before = con.execute("select count(*) from raw.usage_events").fetchone()[0]
    con.execute(
        f"{INSERT_INTO_RAW} select {', '.join(exprs)}, ?, ?, {line_sql}, cast(null as varchar) from {relation_sql}",
        [loaded_at, str(path)],
    )
    result.rows = con.execute("select count(*) from raw.usage_events").fetchone()[0] - before


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _require_loader_columns(con) -> None:
    """A raw table made by another loader may have only the contract's six columns: the build reads
    it, but `billing ingest` records where each row came from and why it could not be read, so it
    refuses to land rows there rather than drop that (and says how to add the columns)."""
    present = {
        row[0].lower()
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'usage_events'"
        ).fetchall()
    }
    missing = [c for c in RAW_COLUMNS if c.lower() not in present]
    if missing:
        alter = " ".join(
            f"alter table raw.usage_events add column {c} {LOADER_COLUMNS.get(c, 'varchar')};" for c in missing
        )
        raise BillingError(
            f"raw.usage_events has no column(s) {', '.join(missing)}: it was created by another loader. "
            "`billing ingest` records each row's file, line and read error there; add the column(s) "
            f"(existing rows read as NULL, which the build accepts): {alter}"
        )


def ingest(
    db_path: Path, patterns: list[str], progress: Callable[[str], None] | None = None, loaded_at: datetime | None = None
) -> IngestSummary:
    paths = expand_paths(patterns)
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    summary = IngestSummary(loaded_at=loaded_at)
    con = connect(db_path)
    try:
        con.execute(CREATE_RAW)
        _require_loader_columns(con)
        con.execute("begin transaction")
        for i, path in enumerate(paths, start=1):
            result = FileResult(path=str(path))
            suffix = path.suffix.lower()
            try:
                if suffix in JSONL_SUFFIXES:
                    _ingest_jsonl(con, path, loaded_at, result, progress)
                elif suffix in CSV_SUFFIXES:
                    _ingest_csv(con, path, loaded_at, result, progress)
                else:
                    rel = f"read_parquet({_sql_string(str(path))}, file_row_number = true)"
                    _ingest_table(con, path, rel, "file_row_number + 1", loaded_at, result)
            except (duckdb.Error, csv.Error) as e:
                raise BillingError(f"{path}: cannot read: {str(e).splitlines()[0]}") from None
            summary.files.append(result)
            if progress:
                extra = (
                    f", {len(result.unreadable_lines)} unreadable line(s) landed for rejection"
                    if result.unreadable_lines
                    else ""
                )
                progress(f"[{i}/{len(paths)}] {path}: {result.rows:,} rows{extra}")
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()
    return summary


def describe(summary: IngestSummary) -> str:
    lines = [
        f"Loaded {summary.rows:,} rows from {len(summary.files)} file(s) "
        f"(loaded_at {summary.loaded_at:%Y-%m-%d %H:%M:%S} UTC)."
    ]
    for f in summary.files:
        if f.unreadable_lines:
            shown = ", ".join(str(n) for n in f.unreadable_lines[:10])
            more = f" and {len(f.unreadable_lines) - 10} more" if len(f.unreadable_lines) > 10 else ""
            lines.append(
                f"  {f.path}: line(s) {shown}{more} could not be read; landed with ingest_error "
                "and rejected by the build (see fct_event_outcomes)."
            )
        if f.blank_lines:
            lines.append(f"  {f.path}: {f.blank_lines} blank line(s) skipped (no record).")
    return "\n".join(lines)
