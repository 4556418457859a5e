"""Guards on every output (issue #16): atomic files, consistent snapshots, no writing through
symlinks, webhooks that only count a 2xx from the endpoint itself, and one-line messages.

Each project is built in this process and let go after (DbtProject.release: dbt-duckdb holds the file
for the life of a process otherwise), or in a killed child (tests/killed_build.py), so other processes
(a killed export, a concurrent writer) can open the DuckDB file.
Catalog: four customers, FLAT $0.10 per call, monthly periods from Jan 1 2025; 20 February calls
each, built as of Feb 20 (January final, February a draft); a spend alert fires for each customer
(January's 3.00 reaches 2.50; February's 2.00 does not: one firing each, DECISIONLOG D69).
"""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BillingTestProject

from billing_cli.cli import main

METRICS = "billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n"
ALERTS = "alerts:\n  - {id: spend-2.50, type: spend_threshold_reached, threshold: 2.50}\n"
SECRET = "whsec_guards"
CUSTOMERS = ("c1", "c2", "c3", "c4")


def calls(customer: str, day: str, n: int, tag: str) -> list[dict]:
    return [
        {
            "transaction_id": f"{customer}-{tag}-{i}",
            "customer_id": customer,
            "event_type": "call",
            "timestamp": f"{day}T12:00:00Z",
            "properties": {},
        }
        for i in range(n)
    ]


def seeded(root: Path) -> BillingTestProject:
    p = BillingTestProject(root)
    p.metrics(METRICS).alerts(ALERTS)
    p.seeds(
        customers=[
            {
                "customer_id": c,
                "name": f"Customer {c}",
                "billing_provider": "stripe",
                "billing_provider_customer_id": f"cus_{c}",
            }
            for c in CUSTOMERS
        ],
        products=[{"product_id": "api", "name": "API calls", "type": "USAGE", "billable_metric": "calls"}],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "api",
                "starting_at": "2024-01-01",
                "rate_type": "FLAT",
                "price": "0.10",
            }
        ],
        contracts=[
            {"contract_id": f"k{c}", "customer_id": c, "rate_card_id": "rc", "starting_at": "2025-01-01"}
            for c in CUSTOMERS
        ],
    )
    return p


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    p = seeded(tmp_path_factory.mktemp("guards"))
    p.ingest(
        [e for c in CUSTOMERS for e in calls(c, "2025-01-15", 30, "jan") + calls(c, "2025-02-05", 20, "feb")],
        loaded_at="2025-02-06T00:00:00Z",
    )
    p.build(as_of="2025-02-20T00:00:00Z")
    p.release()  # the tests' CLI commands and killed builds open the file themselves
    return p


def cli(p: BillingTestProject, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["--project-dir", str(p.dir), "--db", str(p.db_path), *args], env=env)


def one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output and len(lines) == 1, result.output
    return lines[0]


def run_cli_process(p: BillingTestProject, args: list[str], preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "billing_cli.cli", "--project-dir", str(p.dir), "--db", str(p.db_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec,
    )


# -- 1. atomic files ------------------------------------------------------------------------------

OUTPUTS = {
    "csv": (["export", "invoices", "--period", "2025-01", "--format", "csv", "--out"], "jan.csv"),
    "json": (["export", "invoices", "--period", "2025-01", "--format", "json", "--out"], "jan.json"),
    "parquet": (["export", "invoices", "--period", "2025-01", "--format", "parquet", "--out"], "jan.parquet"),
    "statement": (["statement", "c1", "--period", "2025-01", "--out"], "c1.html"),
}


def _small_file_limit():
    """A child that may write at most 600 bytes per file (EFBIG after that, as on a full disk)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600))


@pytest.mark.parametrize("kind", [*OUTPUTS, "stripe"])
def test_a_write_that_fails_midway_leaves_the_previous_file(built, tmp_path, kind):
    p = built
    if kind == "stripe":
        first = run_cli_process(p, ["export", "stripe", "--period", "2025-01", "--out", str(tmp_path)])
        assert first.returncode == 0, first.stderr
        target = sorted(tmp_path.glob("*.json"))[0]
        args = ["export", "stripe", "--period", "2025-01", "--out", str(tmp_path)]
    else:
        prefix, name = OUTPUTS[kind]
        target = tmp_path / name
        args = [*prefix, str(target)]
    target.write_text("previous\n")
    result = run_cli_process(p, args, preexec=_small_file_limit)
    assert target.read_text() == "previous\n"
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert [line for line in result.stderr.splitlines() if line.strip()] == [result.stderr.strip()]
    assert "File too large" in result.stderr
    assert sorted(f.name for f in tmp_path.iterdir() if f.name.startswith(".")) == []  # no temp file left


KILL_MIDWAY = """
import os, signal, sys
from pathlib import Path
from billing_cli import export
seen = {"n": 0}
real = export._csv_value
def value(*args):
    seen["n"] += 1
    if seen["n"] == 45:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)
export._csv_value = value
export.export_invoices(Path(sys.argv[1]), "2025-02", "csv", sys.argv[2])
"""


def test_a_killed_csv_export_leaves_the_previous_file(built, tmp_path):
    target = tmp_path / "feb.csv"
    target.write_text("previous\n")
    child = subprocess.run(
        [sys.executable, "-c", KILL_MIDWAY, str(built.db_path), str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stderr
    assert target.read_text() == "previous\n"
    ok = cli(built, "export", "invoices", "--period", "2025-02", "--out", str(target))
    assert ok.exit_code == 0 and target.read_text().startswith("invoice_id,"), ok.output


# -- 2. one consistent snapshot -------------------------------------------------------------------


def test_an_export_after_a_build_stopped_between_the_invoice_marts_refuses(built, tmp_path):
    # Built as of Feb 20; then 10 more February calls for c1 land and the next build stops right after
    # fct_invoices (as a build killed there does; the year story kills builds, this one selects
    # +fct_invoices, which fct_invoice_line_items is not part of): c1's February draft is at 3.00 in
    # fct_invoices, fct_invoice_line_items still has 2.00.
    p = built.copy(tmp_path / "stopped")
    p.ingest(calls("c1", "2025-02-21", 10, "late"), loaded_at="2025-02-21T13:00:00Z")
    p.build(as_of="2025-02-22T00:00:00Z", select="+fct_invoices", data_tests=False)
    p.release()
    [feb] = p.query(
        "select invoice_id, total from main.fct_invoices where customer_id = 'c1' and period_starting_at = '2025-02-01'"
    )
    [lines] = p.query(
        "select sum(amount) as total from main.fct_invoice_line_items where invoice_id = ?", [feb["invoice_id"]]
    )
    assert (feb["total"], lines["total"]) == (Decimal("3.00"), Decimal("2.00"))  # the state the kill left
    out = tmp_path / "feb.csv"
    for fmt in ("csv", "json", "parquet"):
        result = cli(p, "export", "invoices", "--period", "2025-02", "--format", fmt, "--out", str(tmp_path))
        assert result.exit_code == 1, result.output
        message = one_line(result)
        assert feb["invoice_id"] in message and "billing build" in message, message
    stripe = cli(p, "export", "stripe", "--period", "2025-02", "--out", str(tmp_path / "stripe"))
    assert stripe.exit_code == 1 and feb["invoice_id"] in stripe.output, stripe.output
    assert not out.exists()
    # the other invoices are consistent: January exports
    assert cli(p, "export", "invoices", "--period", "2025-01", "--out", str(tmp_path)).exit_code == 0


# -- 3. symlinks and paths that cannot be written -------------------------------------------------


@pytest.mark.parametrize("kind", list(OUTPUTS))
def test_out_never_writes_through_a_symlink(built, tmp_path, kind):
    prefix, name = OUTPUTS[kind]
    victim = tmp_path / "notes.txt"
    victim.write_text("keep me\n")
    link = tmp_path / name
    link.symlink_to(victim)
    result = cli(built, *prefix, str(link))
    assert result.exit_code == 1 and "symbolic link" in one_line(result), result.output
    assert victim.read_text() == "keep me\n" and link.is_symlink()


def test_stripe_never_writes_through_a_symlinked_file(built, tmp_path):
    out = tmp_path / "stripe"
    assert cli(built, "export", "stripe", "--period", "2025-01", "--out", str(out)).exit_code == 0
    target = sorted(out.glob("*.json"))[0]
    victim = tmp_path / "notes.txt"
    victim.write_text("keep me\n")
    target.unlink()
    target.symlink_to(victim)
    result = cli(built, "export", "stripe", "--period", "2025-01", "--out", str(out))
    assert result.exit_code == 1 and "symbolic link" in one_line(result), result.output
    assert victim.read_text() == "keep me\n"


UNWRITABLE = {
    "dangling symlink": lambda d: (d / "gone.csv").symlink_to(d / "nowhere" / "x.csv") or d / "gone.csv",
    "missing folder": lambda d: d / "missing" / "x.csv",
    "under a file": lambda d: (d / "file.txt").write_text("x") and d / "file.txt" / "x.csv",
    "proc": lambda d: Path("/proc/billing-guard.csv"),
    "proc self folder": lambda d: Path("/proc/self"),
    "sys file": lambda d: Path("/sys/kernel/billing.csv"),
}


@pytest.mark.parametrize("case", list(UNWRITABLE))
def test_unwritable_out_is_one_line(built, tmp_path, case):
    out = UNWRITABLE[case](tmp_path)
    result = cli(built, "export", "invoices", "--period", "2025-01", "--out", str(out))
    assert result.exit_code == 1, result.output
    one_line(result)


# -- 4. webhooks ----------------------------------------------------------------------------------


class Redirecting(BaseHTTPRequestHandler):
    """Answers every POST to /hooks with a redirect; anything that reaches /elsewhere gets a 200."""

    code = 302
    elsewhere: list[str] = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def do_GET(self):  # noqa: N802
        self._answer()

    def _answer(self):
        if self.path.startswith("/elsewhere"):
            type(self).elsewhere.append(self.command)
            self.send_response(200)
            self.send_header("Content-Length", "0")
        else:
            self.send_response(type(self).code)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    servers = []

    def start(handler):
        server = HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def delivered_to(p: BillingTestProject, url: str) -> int:
    return p.query("select count(*) as n from billing_audit.alert_deliveries where destination = ?", [url])[0]["n"]


@pytest.mark.parametrize("code", [301, 302, 303, 307])
def test_a_redirect_is_not_a_delivery(built, http_server, code):
    Redirecting.code, Redirecting.elsewhere = code, []
    url = http_server(Redirecting) + f"/hooks/{code}"
    result = cli(
        built,
        "alerts",
        "deliver",
        "--to",
        url,
        "--backoff",
        "0",
        "--max-attempts",
        "2",
        env={"BILLING_WEBHOOK_SECRET": SECRET},
    )
    assert result.exit_code == 1 and "4 notification(s) not delivered" in result.output, result.output
    assert f"HTTP {code}" in result.output
    assert Redirecting.elsewhere == [] and delivered_to(built, url) == 0


def raw_server(respond) -> tuple[str, threading.Event]:
    """A loopback TCP server handing each connection to respond(conn); returns (url, stop)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=respond, args=(conn, stop), daemon=True).start()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", stop


def _read_request(conn) -> None:
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < length:
        body += conn.recv(4096)


def test_a_response_cut_off_before_its_body_is_not_a_delivery(built):
    def respond(conn, stop):
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
        conn.close()

    url, stop = raw_server(respond)
    try:
        result = cli(
            built,
            "alerts",
            "deliver",
            "--to",
            url + "/cut",
            "--backoff",
            "0",
            "--max-attempts",
            "1",
            env={"BILLING_WEBHOOK_SECRET": SECRET},
        )
    finally:
        stop.set()
    assert result.exit_code == 1 and "4 notification(s) not delivered" in result.output, result.output
    assert delivered_to(built, url + "/cut") == 0


def test_timeout_bounds_a_whole_attempt_against_a_trickling_receiver(built):
    def respond(conn, stop):
        _read_request(conn)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
            try:
                conn.sendall(bytes([byte]))
            except OSError:  # the client gave up, as it should
                break
            if stop.wait(0.1):
                break
        conn.close()

    url, stop = raw_server(respond)
    started = time.monotonic()
    try:
        result = cli(
            built,
            "alerts",
            "deliver",
            "--to",
            url + "/slow",
            "--backoff",
            "0",
            "--max-attempts",
            "1",
            "--timeout",
            "0.5",
            env={"BILLING_WEBHOOK_SECRET": SECRET},
        )
    finally:
        stop.set()
    elapsed = time.monotonic() - started
    assert result.exit_code == 1 and "4 notification(s) not delivered" in result.output, result.output
    assert elapsed < 4 * 0.5 + 2, f"4 attempts of 0.5 s took {elapsed:.1f} s"


PROBE = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table if not exists lock_probe (x int)')"


def test_no_database_lock_is_held_while_sending(built):
    received, release = threading.Event(), threading.Event()

    def respond(conn, stop):
        _read_request(conn)
        received.set()
        release.wait(10)  # the first answer waits until the probe has run
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        conn.close()

    url, stop = raw_server(respond)
    outcome = {}
    sender = threading.Thread(
        target=lambda: outcome.setdefault(
            "result",
            cli(
                built,
                "alerts",
                "deliver",
                "--to",
                url + "/lock",
                "--max-attempts",
                "1",
                "--timeout",
                "5",
                env={"BILLING_WEBHOOK_SECRET": SECRET},
            ),
        )
    )
    sender.start()
    try:
        assert received.wait(30)
        probe = subprocess.run(
            [sys.executable, "-c", PROBE, str(built.db_path)], capture_output=True, text=True, timeout=60
        )
    finally:
        release.set()
        sender.join(60)
        stop.set()
    assert probe.returncode == 0, probe.stderr[-500:]
    result = outcome["result"]
    assert result.exit_code == 0 and "Delivered 4 notification(s)" in result.output, result.output
    assert delivered_to(built, url + "/lock") == 4


def test_verify_is_false_for_a_non_ascii_header_and_refuses_an_empty_secret():
    from billing_cli.webhooks import sign, verify

    now = int(time.time())
    assert verify(SECRET, f"t={now},v1=\u00e9\u00e9", b"{}") is False
    assert verify(SECRET, "t=\u0661\u0662,v1=ab", b"{}") is False  # Arabic-Indic digits are not a time
    with pytest.raises(ValueError, match="empty"):
        verify("", sign("x", now, b"{}").replace("x", ""), b"{}")
    with pytest.raises(ValueError, match="empty"):
        sign("", now, b"{}")


# -- 5. messages ----------------------------------------------------------------------------------


def test_a_build_on_a_locked_database_is_one_line(built):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
            str(built.db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = cli(built, "build", "--as-of", "2025-02-20T00:00:00Z")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "is locked by another process" in one_line(result)


def test_ctrl_c_is_one_line_and_exit_130(built, tmp_path, monkeypatch):
    import billing_cli.export

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(billing_cli.export, "export_invoices", interrupted)
    result = cli(built, "export", "invoices", "--period", "2025-01", "--out", str(tmp_path))
    assert result.exit_code == 130 and one_line(result) == "interrupted", result.output


def test_a_dbt_run_interrupted_by_ctrl_c_is_an_interrupt_not_a_failure():
    from types import SimpleNamespace

    from billing_cli.build import DbtProject

    with pytest.raises(KeyboardInterrupt):
        DbtProject(Path("."), Path("x.duckdb"))._summarise(SimpleNamespace(exception=KeyboardInterrupt(), result=None))


BAD_OPTIONS = {
    "negative timeout": ["--timeout", "-1"],
    "zero timeout": ["--timeout", "0"],
    "nan timeout": ["--timeout", "nan"],
    "huge backoff": ["--backoff", "1e308"],
    "negative backoff": ["--backoff", "-1"],
    "zero attempts": ["--max-attempts", "0"],
    "empty url": ["--to", "http://"],
    "bad ipv6 url": ["--to", "http://[::1/hooks"],
    "bad port": ["--to", "http://127.0.0.1:99999/hooks"],
    "ftp url": ["--to", "ftp://example.com/x"],
    "space in url": ["--to", "http://exa mple.com/x"],
    "missing folder": ["--to", "/no/such/folder"],
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_deliver_options_are_a_one_line_usage_error(built, tmp_path, case):
    args = BAD_OPTIONS[case]
    to = [] if "--to" in args else ["--to", "http://127.0.0.1:9/hooks"]
    result = cli(built, "alerts", "deliver", *to, *args, env={"BILLING_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 2, result.output
    assert one_line(result).startswith("Error:"), result.output
