"""Jinja's compiled code kept between processes (billing_cli/jinja_cache.py): reused by a later
process, compiled again when its entry is unreadable, keyed by everything code generation reads,
kept in memory only when switched off, and pruned when unused for a month. No dbt build: each case
runs a small Python child that renders templates through the cache and reports how many it compiled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from billing_cli import jinja_cache

CHILD = """
import json, sys
from jinja2 import Environment
compiled = []
real = Environment.compile
def counting(self, source, *args, **kwargs):
    compiled.append(source)
    return real(self, source, *args, **kwargs)
Environment.compile = counting
from billing_cli import jinja_cache
jinja_cache.install()
env = Environment(extensions=["jinja2.ext.do"])
out = [env.from_string(t).render(x=2) for t in sys.argv[1:]]
print(json.dumps({"rendered": out, "compiled": len(compiled)}))
"""

TEMPLATES = ["{{ x * 21 }}", "{% for i in range(x) %}{{ i }},{% endfor %}", "{% do [].append(1) %}ok"]


def run(cache: str, *templates: str) -> dict:
    env = {**os.environ, "BILLING_CACHE_DIR": cache}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *templates], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(proc.stdout)


def entries(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_a_later_process_reuses_the_code_and_renders_the_same(tmp_path):
    first = run(str(tmp_path), *TEMPLATES)
    assert first == {"rendered": ["42", "0,1,", "ok"], "compiled": 3}
    assert len(entries(tmp_path)) == 3
    second = run(str(tmp_path), *TEMPLATES)
    assert second == {"rendered": first["rendered"], "compiled": 0}
    # a new source is compiled and added; the others are still read
    third = run(str(tmp_path), *TEMPLATES, "{{ x + 1 }}")
    assert third == {"rendered": [*first["rendered"], "3"], "compiled": 1}
    assert len(entries(tmp_path)) == 4


def test_an_unreadable_entry_is_compiled_again_and_rewritten(tmp_path):
    run(str(tmp_path), TEMPLATES[0])
    [entry] = entries(tmp_path)
    entry.write_bytes(b"\x00not marshal")
    assert run(str(tmp_path), TEMPLATES[0]) == {"rendered": ["42"], "compiled": 1}
    assert run(str(tmp_path), TEMPLATES[0]) == {"rendered": ["42"], "compiled": 0}


def test_off_keeps_the_code_in_memory_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    assert run("off", *TEMPLATES)["compiled"] == 3
    assert run("off", *TEMPLATES)["compiled"] == 3
    assert not home.exists() and entries(tmp_path) == []
    monkeypatch.setenv("BILLING_CACHE_DIR", "off")
    assert jinja_cache.cache_dir() is None
    monkeypatch.setenv("BILLING_CACHE_DIR", "")
    assert str(jinja_cache.cache_dir()).startswith(str(home / ".cache" / "billing" / "jinja-"))


def test_the_key_covers_what_code_generation_reads():
    source = "{% for i in x %}{{ i }}{% endfor %}"

    def key(env, text=source, name=None, filename=None):
        return jinja_cache._key(env, text, name, filename, False)

    plain = key(Environment())
    assert key(Environment()) == plain  # a new environment with the same configuration
    others = [
        key(Environment(extensions=["jinja2.ext.do"])),
        key(Environment(trim_blocks=True)),
        key(Environment(block_start_string="<%", block_end_string="%>")),
        key(Environment(autoescape=True)),
        key(Environment(finalize=str)),
        key(SandboxedEnvironment()),
        key(Environment(), text=source + " "),
        key(Environment(), name="model.sql"),
        key(Environment(), filename="models/model.sql"),
    ]
    with_filter = Environment()
    with_filter.filters["money"] = str
    others.append(key(with_filter))
    assert len({plain, *others}) == len(others) + 1


def test_prune_removes_entries_unused_for_a_month_at_most_once_a_day(tmp_path):
    now = time.time()
    old, recent = tmp_path / "old", tmp_path / "recent"
    for path, age_days in ((old, 31), (recent, 29)):
        path.write_bytes(b"x")
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    assert jinja_cache.prune(tmp_path, now=now) == 1
    assert not old.exists() and recent.exists()
    # the next day's run is skipped within a day of the last, and runs after it
    os.utime(recent, (now - 40 * 86400, now - 40 * 86400))
    assert jinja_cache.prune(tmp_path, now=now + 3600) == 0
    assert jinja_cache.prune(tmp_path, now=now + 86400 + 1) == 1
    assert jinja_cache.prune(tmp_path / "missing") == 0
