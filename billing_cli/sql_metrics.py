"""SQL billable metrics: one SELECT over `events`, validated and rewritten as a sqlglot AST.

The query sees the columns `event_type`, `timestamp` and `properties.<name>` of the table `events`
and returns `value` plus, optionally, group-key columns. As in Metronome, the compiler scopes it
itself: it adds the scope columns (the billing line: rate segment and presentation group, chosen per
event by the group-key columns; or the customer, contract and day) to SELECT and GROUP BY.
Anything that could read or write outside `events` is refused: other statements, other tables,
joins, subqueries, CTEs, unknown functions (file readers among them), windows.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .errors import BillingError
from .names import IDENTIFIER, PROPERTY_NAME, SQL_DIALECT

# The plain columns a SQL metric may read from `events` (besides properties.<name>).
SQL_METRIC_COLUMNS = {"event_type", "timestamp"}
JSON_GET = "billing_json_get"
# Columns the compiler adds to a SQL metric's rows (scope and outputs): no group key may take their names.
SCOPE_COLUMNS = {
    "segment_id",
    "presentation_group_values",
    "customer_id",
    "contract_id",
    "usage_date",
    "matched_events",
    "billable_metric",
    "quantity",
    "group_values",
    "event_count",
}

# Every node of a SQL metric must be one of these (functions not listed are refused).
ALLOWED_NODES = tuple(
    getattr(exp, name)
    for name in (
        "Select",
        "From",
        "Table",
        "Where",
        "Group",
        "Having",
        "Column",
        "Identifier",
        "Alias",
        "Literal",
        "Star",
        "Null",
        "Boolean",
        "Paren",
        "Tuple",
        "Distinct",
        "DataType",
        "DataTypeParam",
        "Count",
        "Sum",
        "Max",
        "Min",
        "Avg",
        "Cast",
        "TryCast",
        "Coalesce",
        "Case",
        "If",
        "Abs",
        "Round",
        "Floor",
        "Ceil",
        "Greatest",
        "Least",
        "Lower",
        "Upper",
        "Length",
        "Substring",
        "Trim",
        "Concat",
        "DPipe",
        "And",
        "Or",
        "Not",
        "EQ",
        "NEQ",
        "GT",
        "GTE",
        "LT",
        "LTE",
        "In",
        "Is",
        "Like",
        "ILike",
        "Between",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Neg",
        "Mod",
    )
    if hasattr(exp, name)
)


# CAST targets a metric may use (a quoted unknown type would be written back verbatim).
ALLOWED_TYPES = {
    getattr(exp.DataType.Type, t)
    for t in (
        "DECIMAL",
        "INT",
        "BIGINT",
        "SMALLINT",
        "TINYINT",
        "DOUBLE",
        "FLOAT",
        "VARCHAR",
        "TEXT",
        "BOOLEAN",
        "DATE",
        "TIMESTAMP",
    )
    if hasattr(exp.DataType.Type, t)
}


def _fail(name: str, problem: str) -> BillingError:
    return BillingError(f"metric '{name}': SQL {problem}")


def parse(name: str, sql: str) -> exp.Select:
    if not isinstance(sql, str) or not sql.strip():
        raise _fail(name, "is empty")
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=SQL_DIALECT) if s is not None]
    except (ParseError, TokenError) as e:
        raise _fail(name, f"does not parse: {str(e).splitlines()[0]}") from None
    if len(statements) != 1:
        raise _fail(name, f"must be exactly one statement, got {len(statements)}")
    select = statements[0]
    if not isinstance(select, exp.Select):
        raise _fail(name, f"must be a SELECT, got {select.key.upper()}")
    return select


def _check_nodes(name: str, select: exp.Select, generated: bool = False) -> None:
    """Refuse anything outside the allowlist. `generated`: the compiler's own output, where the
    JSON access placeholder function is expected."""
    for node in select.walk():
        if generated and isinstance(node, exp.Anonymous) and node.name.lower() == JSON_GET:
            continue
        _check_node(name, select, node)
    for clause in ("order", "limit", "offset", "qualify", "windows"):
        if select.args.get(clause):
            raise _fail(name, f"may not use {clause.upper()}")
    tables = list(select.find_all(exp.Table))
    if len(tables) != 1:
        raise _fail(name, "must select FROM events")


def _check_node(name: str, select: exp.Select, node: exp.Expression) -> None:
    """One node of a SQL metric against the allowlist."""
    if isinstance(node, exp.Select) and node is not select:
        raise _fail(name, "may not contain subqueries")
    if isinstance(node, (exp.Join, exp.With, exp.Subquery, exp.Union)):
        raise _fail(name, f"may not use {node.key.upper()}: it reads only the table events")
    if isinstance(node, exp.Window):
        raise _fail(name, "may not use window functions")
    if isinstance(node, exp.DataType) and (node.this not in ALLOWED_TYPES or node.args.get("kind")):
        raise _fail(
            name,
            f"may not cast to {node.sql(dialect=SQL_DIALECT)} (allowed: decimal, integer, "
            "double, varchar, boolean, date, timestamp types)",
        )
    if isinstance(node, exp.DataTypeParam) and not (isinstance(node.this, exp.Literal) and node.this.is_int):
        raise _fail(name, "type parameters must be whole numbers")
    if isinstance(node, exp.Table):
        if (
            node.name.lower() != "events"
            or node.args.get("db")
            or node.args.get("catalog")
            or not isinstance(node.this, exp.Identifier)
        ):
            raise _fail(name, f"may read only the table events, not {node.sql(dialect=SQL_DIALECT)}")
        return
    if not isinstance(node, ALLOWED_NODES):
        what = node.name if isinstance(node, exp.Anonymous) else node.key
        raise _fail(
            name,
            f"may not use {what.upper()} (allowed: aggregates, arithmetic, comparisons, "
            "CASE, CAST, COALESCE and simple string functions)",
        )


def _rewrite_columns(name: str, node: exp.Expression) -> exp.Expression:
    """properties.<name> -> JSON access placeholder; event_type stays a column and timestamp is
    the events' event_at (no quoted identifier: "timestamp" would be a string literal on Spark)."""
    if not isinstance(node, exp.Column):
        return node
    if node.table:
        if node.table.lower() != "properties" or node.args.get("db"):
            raise _fail(
                name, f"column {node.sql(dialect=SQL_DIALECT)} is not event_type, timestamp or properties.<name>"
            )
        if not PROPERTY_NAME.match(node.name):
            raise _fail(name, f"property name {node.name!r} is not valid")
        return exp.Anonymous(this=JSON_GET, expressions=[exp.column("properties"), exp.Literal.string(node.name)])
    if node.name.lower() not in SQL_METRIC_COLUMNS:
        raise _fail(name, f"column {node.name} is not event_type, timestamp or properties.<name>")
    return exp.column("event_at" if node.name.lower() == "timestamp" else node.name.lower())


def _check_group_keys(name: str, select: exp.Select, group_keys: list[str]) -> None:
    """The group-key columns are values of each event, and exactly what the query groups by (so a
    row of values is told apart by its keys, DECISIONLOG D23). GROUP BY <alias> becomes GROUP BY
    the aliased expression (an alias is not a column of events)."""
    by_alias = {p.alias: p.this for p in select.expressions}
    for key in group_keys:
        if key in SCOPE_COLUMNS:
            raise _fail(name, f"group key {key} is a column the compiler adds; choose another alias")
        if by_alias[key].find(exp.AggFunc) is not None:
            raise _fail(name, f"group key {key} may not aggregate: it is a value of each event")
    having = select.args.get("having")
    if having is not None and any(c.find_ancestor(exp.AggFunc) is None for c in having.find_all(exp.Column)):
        raise _fail(name, "HAVING may read events only inside aggregates (count, sum, ...)")
    group = select.args.get("group")
    if group is not None:
        group.set(
            "expressions",
            [
                by_alias[g.name].copy()
                if isinstance(g, exp.Column)
                and not g.table
                and g.name in by_alias
                and g.name.lower() not in SQL_METRIC_COLUMNS
                else g
                for g in group.expressions
            ],
        )
    grouped = {g.sql(dialect=SQL_DIALECT) for g in (group.expressions if group is not None else [])}
    keyed = {by_alias[k].sql(dialect=SQL_DIALECT) for k in group_keys}
    for expression in sorted(grouped - keyed):
        raise _fail(name, f"groups by {expression}, which is not a group-key column (AS <group key>)")
    for projection in select.expressions:
        if (
            projection.alias != "value"
            and projection.alias not in grouped
            and projection.this.sql(dialect=SQL_DIALECT) not in grouped
        ):
            raise _fail(name, f"group key {projection.alias} must be in GROUP BY")


def compile_sql_metric(name: str, sql: str) -> tuple[exp.Select, list[str]]:
    """The validated, rewritten query (scope not yet added) and its group-key aliases."""
    select = parse(name, sql)
    _check_nodes(name, select)
    aliases = []
    for projection in select.expressions:
        if not isinstance(projection, exp.Alias) or not IDENTIFIER.match(projection.alias):
            raise _fail(
                name, f"column {projection.sql(dialect=SQL_DIALECT)} needs a lowercase alias (AS value, AS <group key>)"
            )
        aliases.append(projection.alias)
    if "value" not in aliases:
        raise _fail(name, "must return a column named value")
    value = next(p for p in select.expressions if p.alias == "value")
    if value.this.find(exp.AggFunc) is None:
        raise _fail(
            name,
            "value must aggregate the events (count, sum, max, ...): the compiler groups "
            "by customer and billing period",
        )
    if len(set(aliases)) != len(aliases):
        raise _fail(name, "returns the same column name twice")
    group_keys = [a for a in aliases if a != "value"]
    _check_group_keys(name, select, group_keys)
    rewritten = select.transform(lambda n: _rewrite_columns(name, n))
    rewritten = rewritten.transform(
        lambda n: exp.TryCast(this=n.this, to=n.to) if isinstance(n, exp.Cast) and not isinstance(n, exp.TryCast) else n
    )
    # Belt and braces: validate the text we will write, read back, with the same allowlist, so that
    # nothing can be smuggled through the SQL generator.
    try:
        reparsed = sqlglot.parse_one(rewritten.sql(dialect=SQL_DIALECT), dialect=SQL_DIALECT)
    except (ParseError, TokenError):
        raise _fail(name, "does not survive a round trip through the SQL generator; simplify it") from None
    _check_nodes(name, reparsed, generated=True)
    return rewritten, group_keys


def group_key_expressions(select: exp.Select, group_keys: list[str]) -> list[tuple[str, exp.Expression]]:
    """(alias, expression) of each group key of a compiled query: the expression is a value of
    each event (it reads event_type, event_at and properties only)."""
    by_alias = {p.alias: p.this for p in select.expressions}
    return [(key, by_alias[key].copy()) for key in group_keys]


def without_group_keys(select: exp.Select, group_keys: list[str]) -> exp.Select:
    """The query with its group-key columns and GROUP BY taken out: evaluated per billing line
    (rate segment and presentation group), whose events the group keys already chose (D23)."""
    ungrouped = select.copy()
    ungrouped.set("expressions", [p for p in ungrouped.expressions if p.alias not in group_keys])
    ungrouped.set("group", None)
    return ungrouped


def scoped(select: exp.Select, scope_columns: list[str]) -> exp.Select:
    """The query grouped by the scope columns too (the compiler's customer/period scoping)."""
    scoped_select = select.copy()
    scope = [exp.column(c) for c in scope_columns]
    scoped_select.set("expressions", [*scope, *scoped_select.expressions])
    group = scoped_select.args.get("group")
    existing = [] if group is None else list(group.expressions)
    scoped_select.set("group", exp.Group(expressions=[*[c.copy() for c in scope], *existing]))
    return scoped_select


def match_condition(select: exp.Select) -> exp.Expression | None:
    """The WHERE of the query: which events the metric meters."""
    where = select.args.get("where")
    return None if where is None else where.this.copy()
