"""Names and shapes the CLI shares with the dbt project, each defined once.

The raw landing table's columns come from the dbt source that declares it
(models/staging/raw/_raw__sources.yml, with a `data_type` per column); the macro
`billing.create_raw_usage_events` reads the same declaration from dbt's graph, so the table the
loader creates and the one a plain `dbt build` creates cannot drift apart.

    >>> RAW_COLUMNS[:3]
    ('transaction_id', 'customer_id', 'event_type')
    >>> bool(PROPERTY_NAME.match("bytes-sent"))
    True
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

# sqlglot dialect used to parse, validate and print metric expressions (JSON access stays a macro,
# so the SQL dbt runs is portable; DECISIONLOG D38).
SQL_DIALECT = "duckdb"
# An event property a metric may read (also a group key); a metric name; a SQL metric's column alias.
PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_SOURCES = Path(__file__).resolve().parent.parent / "models" / "staging" / "raw" / "_raw__sources.yml"
# dbt source data_type -> DuckDB type of the landing table
_DUCKDB_TYPES = {"string": "varchar", "timestamp": "timestamp", "bigint": "bigint"}


def _raw_table_declaration(sources_file: Path = _SOURCES) -> list[dict]:
    """The columns of source raw.usage_events as declared, in order."""
    for source in yaml.safe_load(sources_file.read_text())["sources"]:
        for table in source["tables"]:
            if source["name"] == "raw" and table["name"] == "usage_events":
                return table["columns"]
    raise LookupError(f"{sources_file}: no source raw.usage_events")


def _duckdb_column(column: dict) -> str:
    """A column of the landing table in DuckDB's CREATE TABLE, with the storage hint its meta declares
    (macro `billing.column_compression`, DECISIONLOG D94).

    >>> meta = {"duckdb_compression": "uncompressed"}
    >>> _duckdb_column({"name": "timestamp", "data_type": "string", "config": {"meta": meta}})
    'timestamp varchar using compression uncompressed'
    """
    compression = column.get("config", {}).get("meta", {}).get("duckdb_compression")
    hint = f" using compression {compression}" if compression else ""
    return f"{column['name']} {_DUCKDB_TYPES[column['data_type']]}{hint}"


_RAW_DECLARATION = _raw_table_declaration()
RAW_TABLE = {c["name"]: c["data_type"] for c in _RAW_DECLARATION}
RAW_COLUMNS = tuple(RAW_TABLE)
# The fields an event file carries (DATA_CONTRACT "Usage events"); the loader adds loaded_at and its own three.
EVENT_FIELDS = RAW_COLUMNS[: RAW_COLUMNS.index("loaded_at")]
LOADER_COLUMNS = {
    c: _DUCKDB_TYPES[t] for c, t in RAW_TABLE.items() if RAW_COLUMNS.index(c) > RAW_COLUMNS.index("loaded_at")
}
CREATE_RAW = (
    "create schema if not exists raw;\ncreate table if not exists raw.usage_events (\n"
    + ",\n".join(f"    {_duckdb_column(column)}" for column in _RAW_DECLARATION)
    + "\n);\n"
)
