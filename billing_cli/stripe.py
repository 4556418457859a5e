"""`billing export stripe`: the Stripe API requests that push a period's final invoices (DECISIONLOG D35).

One JSON file per FINALIZED invoice of a customer whose billing_provider is `stripe`, holding the
requests in the order to send them:

1. for a regenerated invoice (`invoice_version` n > 1), per earlier version v: `GET /v1/invoices/search`
   for the Stripe invoice carrying our metadata billing_invoice_id and billing_invoice_version v
   (`"result": "voided_vN"` names its first hit), then `POST /v1/invoices/{voided_vN}/void`. No hit:
   that version was never pushed, skip the requests that reference it (`"if_missing": "skip"`);
2. `POST /v1/invoices` (a draft with pending_invoice_items_behavior=exclude, `"result": "invoice"`);
3. one `POST /v1/invoiceitems` per line, attached to that draft (`"invoice": "{invoice}"`), so items
   never land on another invoice (nor on the voided one);
4. `POST /v1/invoices/{invoice}/finalize`.

Amounts are integers in Stripe's minor unit of the currency (DECISIONLOG D70): whole units for
Stripe's zero-decimal currencies (JPY, KRW, ...), thousandths for its three-decimal ones (BHD, JOD,
KWD, OMR, TND), whose last digit Stripe requires to be 0 (an amount is rounded half-up to the
nearest ten, the exact amount kept in the item's metadata `billing_amount`), hundredths otherwise
(ISK too: Stripe keeps it two-decimal). Every POST has an idempotency key made of the
invoice id, its version and the request, so resending a file never bills twice and the same version
always gives the same file, while a regenerated invoice gets new keys. Nothing here talks to the
network; a pusher sends the files one at a time per customer, substituting `{name}` in paths and
params with the id of the request whose "result" is name.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .currency import exact_money_text
from .errors import BillingError
from .export import _text_number, period_rows
from .outputs import check_target, write_text

ZERO_DECIMAL_CURRENCIES = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}


# Stripe's three-decimal currencies: amounts in thousandths, whose last digit must be 0.
THREE_DECIMAL_CURRENCIES = {"BHD", "JOD", "KWD", "OMR", "TND"}


def stripe_amount(amount: Decimal, currency: str, where: str) -> int:
    """`amount` as the integer Stripe expects: 1235 for JPY 1235, 123457 for USD 1234.57, 1234570 for
    KWD 1234.568 (thousandths, rounded half-up to a multiple of ten as Stripe requires)."""
    code = currency.upper()
    if code in THREE_DECIMAL_CURRENCIES:
        return int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP)) * 10
    value = amount * (1 if code in ZERO_DECIMAL_CURRENCIES else 100)
    if value != value.to_integral_value():
        raise BillingError(f"{where}: amount {amount} {currency} is not a whole number of minor units")
    return int(value)


def _unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.replace(tzinfo=UTC).timestamp())


def _key(invoice: dict, suffix: str) -> str:
    """billing-<invoice>-v<version>-<request>: new for every regenerated version, stable within one."""
    return f"billing-{invoice['invoice_id']}-v{invoice['invoice_version']}-{suffix}"


def _metadata(invoice: dict) -> dict:
    """What we set on the Stripe invoice and items; id and version find the invoice again (to void it)."""
    return {
        "billing_invoice_id": invoice["invoice_id"],
        "billing_invoice_version": str(invoice["invoice_version"]),
        "billing_contract_id": invoice["contract_id"],
        "billing_customer_id": invoice["customer_id"],
        "billing_invoice_type": invoice["invoice_type"],
    }


def void_requests(invoice: dict) -> list[dict]:
    """Search and void the Stripe invoice of every earlier version (those never pushed are skipped)."""
    requests = []
    for old in range(1, invoice["invoice_version"]):
        name = f"voided_v{old}"
        query = (
            f"metadata['billing_invoice_id']:'{invoice['invoice_id']}' AND metadata['billing_invoice_version']:'{old}'"
        )
        requests.append(
            {
                "method": "GET",
                "path": "/v1/invoices/search",
                "result": name,
                "if_missing": "skip",
                "params": {"query": query, "limit": 1},
            }
        )
        requests.append(
            {
                "method": "POST",
                "path": f"/v1/invoices/{{{name}}}/void",
                "idempotency_key": _key(invoice, f"void-v{old}"),
                "params": {},
            }
        )
    return requests


def _item_request(invoice: dict, line: dict, metadata: dict) -> dict:
    """One invoice item, attached to the invoice created before it."""
    currency = invoice["currency"]
    where = f"invoice {invoice['invoice_id']} line {line['line_item_id']}"
    description = line["name"] or line["line_type"]
    if line["quantity"] is not None and line["unit_price"] is not None:
        description += f" ({_text_number(line['quantity'])} x {_text_number(line['unit_price'])})"
    params = {
        "customer": invoice["billing_provider_customer_id"],
        "invoice": "{invoice}",
        "currency": currency.lower(),
        "amount": stripe_amount(line["amount"], currency, where),
        "description": description,
        "metadata": {
            **metadata,
            "billing_line_item_id": line["line_item_id"],
            "billing_amount": exact_money_text(line["amount"], currency),
            "line_type": line["line_type"],
            "product_id": line["product_id"] or "",
        },
    }
    if line["starting_at"] is not None and line["ending_before"] is not None:
        params["period"] = {"start": _unix(line["starting_at"]), "end": _unix(line["ending_before"])}
    return {
        "method": "POST",
        "path": "/v1/invoiceitems",
        "idempotency_key": _key(invoice, line["line_item_id"]),
        "params": params,
    }


def invoice_requests(invoice: dict, lines: list[dict]) -> dict:
    customer, currency = invoice["billing_provider_customer_id"], invoice["currency"]
    metadata = _metadata(invoice)
    create = {
        "method": "POST",
        "path": "/v1/invoices",
        "idempotency_key": _key(invoice, "invoice"),
        "result": "invoice",
        "params": {
            "customer": customer,
            "currency": currency.lower(),
            "collection_method": "send_invoice",
            "due_date": _unix(invoice["due_at"]),
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "description": f"{invoice['contract_name'] or invoice['contract_id']}: "
            f"{invoice['invoice_type'].lower()} invoice",
            "metadata": metadata,
        },
    }
    items = [_item_request(invoice, line, metadata) for line in lines]
    finalize = {
        "method": "POST",
        "path": "/v1/invoices/{invoice}/finalize",
        "idempotency_key": _key(invoice, "finalize"),
        "params": {"auto_advance": False},
    }
    if sum((line["amount"] for line in lines), Decimal(0)) != invoice["total"]:
        raise BillingError(
            f"invoice {invoice['invoice_id']}: line amounts do not add up to the total {invoice['total']}"
        )
    return {
        "invoice_id": invoice["invoice_id"],
        "invoice_version": invoice["invoice_version"],
        "customer_id": invoice["customer_id"],
        "stripe_customer": customer,
        "currency": currency.lower(),
        "total": sum(r["params"]["amount"] for r in items),  # what Stripe bills: the items' sum
        "billing_total": exact_money_text(invoice["total"], currency),
        "requests": [*void_requests(invoice), create, *items, finalize],
    }


def export_stripe(db_path: Path, period: str, out: str | Path) -> tuple[list[Path], dict[str, str]]:
    """Write one request file per final Stripe invoice of the period; returns (files, skipped id -> why)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BillingError(f"--out {out}: not a folder")
    if not out.parent.is_dir():
        raise BillingError(f"--out {out}: folder {out.parent} does not exist")
    rows, _ = period_rows(db_path, period)
    invoices: dict[str, dict] = {}
    lines: dict[str, list[dict]] = {}
    for row in rows:
        invoices.setdefault(row["invoice_id"], row)
        if row["line_item_id"] is not None:
            lines.setdefault(row["invoice_id"], []).append(row)
    documents, skipped = _documents(invoices, lines)
    try:
        out.mkdir(exist_ok=True)
    except OSError as e:
        raise BillingError(f"--out {out}: cannot create the folder: {e.strerror or e}") from None
    paths = [check_target(out / f"{invoice_id}.json") for invoice_id in documents]  # refuse before writing any
    for path, document in zip(paths, documents.values(), strict=True):
        write_text(path, json.dumps(document, indent=2) + "\n")
    return paths, skipped


def _documents(invoices: dict[str, dict], lines: dict[str, list[dict]]) -> tuple[dict[str, dict], dict[str, str]]:
    """The request document of every final Stripe invoice (all computed before any file is written)."""
    documents, skipped = {}, {}
    for invoice_id, invoice in invoices.items():
        if invoice["status"] != "FINALIZED":
            skipped[invoice_id] = "still DRAFT"
        elif invoice["billing_provider"] != "stripe":
            skipped[invoice_id] = f"customer {invoice['customer_id']} is not billed through Stripe"
        elif not invoice["billing_provider_customer_id"]:
            skipped[invoice_id] = f"customer {invoice['customer_id']} has no billing_provider_customer_id"
        else:
            documents[invoice_id] = invoice_requests(invoice, lines.get(invoice_id, []))
    return documents, skipped
