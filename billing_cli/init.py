"""`billing init DIR`: a new billing project to fill with your own catalog and events (DECISIONLOG D65).

As `dbt init` does, it writes a self-contained dbt project: the engine (dbt_project.yml, profiles/,
macros/, models/ and the data tests in tests/dbt/) copied from the project this package belongs to,
header-only seed CSVs, a commented billable_metrics.yml with no metrics, no alerts.yml, an issuer.yml
to fill in (the invoice documents' issuer) and a short README. Plain `dbt build` works in it from the
first run, nightly, without the billing CLI. With an `example` folder (examples/autosales: seeds/,
billable_metrics.yml, alerts.yml, issuer.yml) the project holds that example instead: `billing demo`
runs on such a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from . import metrics as metrics_mod
from .compiler import compile_project
from .errors import BillingError
from .project import PACKAGE_PROJECT_DIR

# What a project is made of, copied from the engine. models/metrics and models/alerts are generated
# from the project's own YAML by `billing compile`, so they are never copied.
ENGINE_FILES = ("dbt_project.yml",)
ENGINE_FOLDERS = ("profiles", "macros", "models", "tests/dbt")
GENERATED_MODEL_FOLDERS = ("metrics", "alerts")
# The example's own files, copied when present.
EXAMPLE_FILES = ("billable_metrics.yml", "alerts.yml", "issuer.yml")

EXAMPLES_DIR = PACKAGE_PROJECT_DIR / "examples"

QUICKSTART = """\
# {name}: usage-based billing with dbt

Made by `billing init`. You own every file here; the engine's models and macros are a copy.

1. Describe your catalog in `seeds/*.csv` (one header line each today; keep the headers), or read
   some of it from tables in your warehouse (var `billing_catalog_source` in dbt_project.yml).
2. Define what you bill for in `billable_metrics.yml`, then `billing compile` (writes models/metrics/).
3. Land usage events: `billing ingest events.jsonl` (into raw.usage_events), or point var
   `billing_events_relation` in dbt_project.yml at your own events table.
4. `billing compile --check && billing build` (or plain `dbt build --profiles-dir profiles`,
   with BILLING_DB set to an absolute path), then read main.fct_invoices.
5. Before you send invoice documents (`billing invoices render`), put your company's name, address
   and invoice number prefix in `issuer.yml`: until then they say "Your Company".

The billing engine's README, "Bring your own data", describes every file and column.
"""

# issuer.yml for a project whose example has none: every key with its default, to fill in
ISSUER_TEMPLATE = """\
# Who issues your invoices: printed on every invoice document (`billing invoices render`).
# Every key is optional; until you set `name`, documents say "Your Company".
issuer:
  name: Your Company
  address: []             # lines, e.g. [500 Market Street, "San Francisco, CA 94105", United States]
  email: ""
  tax_id: ""
  invoice_prefix: INV     # numbers INV-0001, INV-0002, ... (letters, digits and dashes)
  net_terms_days: 30      # due date when a contract sets no net_payment_terms_days
"""

GITIGNORE = "target/\ndbt_packages/\nlogs/\n*.duckdb\n*.duckdb.wal\n"


def seed_headers(engine: Path = PACKAGE_PROJECT_DIR) -> dict[str, str]:
    """seed name -> its header line: the keys of its +column_types in dbt_project.yml (their one list)."""
    seeds = yaml.safe_load((engine / "dbt_project.yml").read_text())["seeds"]["billing"]
    return {
        name: ",".join(config["+column_types"])
        for name, config in seeds.items()
        if isinstance(config, dict) and "+column_types" in config
    }


def example_dir(name: str) -> Path:
    folder = EXAMPLES_DIR / name
    if not (folder / "billable_metrics.yml").is_file():
        known = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir()) if EXAMPLES_DIR.is_dir() else []
        raise BillingError(f"no example {name!r} (examples: {', '.join(known) or 'none'})")
    return folder


def copy_engine(dest: Path, engine: Path = PACKAGE_PROJECT_DIR) -> None:
    """The engine's dbt project files into `dest` (without generated models)."""
    for name in ENGINE_FILES:
        shutil.copy(engine / name, dest / name)
    for folder in ENGINE_FOLDERS:
        skip = GENERATED_MODEL_FOLDERS if folder == "models" else ()
        shutil.copytree(engine / folder, dest / folder, ignore=shutil.ignore_patterns(*skip, "__pycache__"))


def init_project(dest: Path, example: str | None = None, engine: Path = PACKAGE_PROJECT_DIR) -> Path:
    """A new project in `dest` (missing or empty), compiled: returns its absolute path."""
    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BillingError(f"{dest} already exists and is not an empty folder; billing init writes a new project")
    source = example_dir(example) if example else None
    dest.mkdir(parents=True, exist_ok=True)
    copy_engine(dest, engine)
    seeds = dest / "seeds"
    if source is not None:
        shutil.copytree(source / "seeds", seeds)
        for name in EXAMPLE_FILES:
            if (source / name).is_file():
                shutil.copy(source / name, dest / name)
    else:
        seeds.mkdir()
        for name, header in seed_headers(engine).items():
            (seeds / f"{name}.csv").write_text(header + "\n")
        shutil.copy(engine / "billable_metrics.yml", dest / "billable_metrics.yml")
    if not (dest / "issuer.yml").exists():
        (dest / "issuer.yml").write_text(ISSUER_TEMPLATE)
    (dest / "README.md").write_text(QUICKSTART.format(name=dest.name))
    (dest / ".gitignore").write_text(GITIGNORE)
    compiled, _, _ = compile_project(dest)
    metrics_mod.write_compiled(dest, compiled)
    return dest
