"""Currencies: ISO 4217 minor units, a few symbols, and exact money text (DECISIONLOG D64).

Amounts are `Decimal` throughout and are never converted to float. Formatting never rounds: an
amount is shown with at least its currency's minor units (`2.5` USD -> `$2.50`, `1500` JPY ->
`¥1,500`) and with every further digit it has (`0.0005` USD -> `$0.0005`), so the text always reads
back as the stored value. Rounding to the minor unit is a separate, explicit step (`round_money`).

    >>> format_money(Decimal("-1234.5"), "USD")
    '-$1,234.50'
    >>> format_money(Decimal("1500.00"), "JPY")
    '¥1,500'
    >>> format_money(Decimal("12.3"), "KWD")
    'KWD\u00a012.300'
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 (list one, current codes): currencies whose minor unit is not 2 decimal places.
ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
FOUR_DECIMAL = frozenset({"CLF", "UYW"})
# The places every money column keeps (SQL billing.money_scale(), DECISIONLOG D70).
MONEY_SCALE = 3

# Symbols for a few common currencies (as Stripe shows them); any other currency shows its code.
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "KRW": "₩",
    "INR": "₹",
    "CNY": "CN¥",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "BRL": "R$",
    "MXN": "MX$",
}
NBSP = "\u00a0"


def normalize_code(code: str | None) -> str:
    return (code or "USD").strip().upper()


def minor_units(code: str | None) -> int:
    """Decimal places of the currency's minor unit (ISO 4217): 0 JPY, 3 KWD, 2 USD and the rest."""
    code = normalize_code(code)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    if code in FOUR_DECIMAL:
        return 4
    return 2


def quantum(code: str | None) -> Decimal:
    """The currency's minor unit as a Decimal: 0.01 for USD, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-minor_units(code))


def round_money(amount: Decimal, code: str | None) -> Decimal:
    """`amount` rounded half-up to the currency's minor unit (exact Decimal arithmetic)."""
    return amount.quantize(quantum(code), rounding=ROUND_HALF_UP)


def _exact(value: Decimal, places: int) -> Decimal:
    """`value` with at least `places` decimals and no trailing zeros beyond them; never rounded."""
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
    trimmed = value.normalize() if value else Decimal(0)
    if -trimmed.as_tuple().exponent <= places:
        return trimmed.quantize(Decimal(1).scaleb(-places))  # only adds zeros: exact
    return trimmed


def exact_text(value: Decimal, places: int) -> str:
    """Plain exact text with at least `places` decimals and no trailing zeros beyond: never rounded."""
    return format(_exact(value, places), "f")


def exact_money_text(amount: Decimal, code: str | None) -> str:
    """Plain exact text of an amount with its currency's minor units, never rounded (exports):
    `1235.000` JPY -> `1235`, `1234.570` USD -> `1234.57`, `2.5` KWD -> `2.500`, `0.0005` USD -> `0.0005`."""
    return exact_text(amount, minor_units(code))


def format_number(value: Decimal, places: int = 0) -> str:
    """Exact text with thousands separators: `304293.830` -> `304,293.83`; at least `places` decimals."""
    return format(_exact(value, places), ",f")


def format_money(amount: Decimal, code: str | None, places: int | None = None) -> str:
    """`amount` in `code` as a person reads it: symbol (or code), thousands separators, at least the
    currency's minor units (or `places`), never rounded."""
    code = normalize_code(code)
    digits = format_number(abs(amount), minor_units(code) if places is None else places)
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{code}{NBSP}{digits}"
