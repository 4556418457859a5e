"""dbt's saved manifest read back from a pickle (billing_cli/manifest_cache.py): the pickle holds what
decoding the MessagePack gives; a later parse loads it, and dbt's own checks still see a file edited
since; a pickle of other bytes or an unreadable one is not used; `off` writes none. Each parse is an
in-process `dbt parse` of a test project (no build), seen through the module's `load`."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_cli import manifest_cache
from billing_cli.build import PARSE_TARGET, DbtProject


def saved(project) -> Path:
    return project.dir / PARSE_TARGET / "partial_parse.msgpack"


def pickled(project) -> Path:
    return Path(f"{saved(project)}{manifest_cache.SUFFIX}")


@pytest.fixture
def loads(monkeypatch):
    """Each parse's outcome: True when it loaded the pickle, False when it decoded the MessagePack."""
    seen: list[bool] = []
    real = manifest_cache.load

    def load(path, data):
        manifest = real(path, data)
        seen.append(manifest is not None)
        return manifest

    monkeypatch.setattr(manifest_cache, "load", load)
    return seen


def parse(project):
    """A new process's parse of the project: a DbtProject with no manifest yet."""
    if not (project.dir / "models" / "metrics").exists():
        project._compile()
    return DbtProject(project.dir, project.db_path).parse()


def test_the_pickle_holds_what_decoding_gives(make_project, tmp_path):
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    project = make_project()
    parse(project)
    data = saved(project).read_bytes()
    decoded = Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)
    manifest_cache.store(tmp_path / "m.msgpack", data, decoded)
    loaded = manifest_cache.load(tmp_path / "m.msgpack", data)
    assert loaded is not decoded and loaded.to_msgpack() == decoded.to_msgpack()
    assert loaded.fixtures == decoded.fixtures and loaded.flat_graph == decoded.flat_graph
    assert loaded._lock is not None and loaded._ref_lookup is None  # rebuilt as decoding does
    assert manifest_cache.load(tmp_path / "m.msgpack", data + b" ") is None  # other bytes: not used


def test_a_later_parse_loads_it_and_dbt_still_sees_an_edited_file(make_project, loads):
    project = make_project()
    parse(project)  # saves a manifest (the first parse in a test process has none to start from)
    first = parse(project)  # decodes it (or loads it, when the last project's was the same) and pickles
    assert pickled(project).exists()
    again = parse(project)
    assert loads[-1] is True
    assert sorted(again.nodes) == sorted(first.nodes)
    model = project.dir / "models" / "marts" / "fct_invoices.sql"
    model.write_text(model.read_text() + "\n-- edited after the pickle\n")
    edited = parse(project)
    assert loads[-1] is True  # the saved manifest had not changed; dbt compared the files
    [node] = [n for n in edited.nodes.values() if n.name == "fct_invoices" and n.resource_type == "model"]
    assert node.raw_code.rstrip().endswith("-- edited after the pickle")
    parse(project)  # dbt saved a new manifest: decoded once more, pickled again
    assert loads[-1] is False
    parse(project)
    assert loads[-1] is True


def test_an_unreadable_pickle_is_decoded_and_written_again(make_project, loads):
    project = make_project()
    parse(project)
    parse(project)
    pickled(project).write_bytes(pickled(project).read_bytes()[:200])
    parse(project)
    assert loads[-1] is False
    parse(project)
    assert loads[-1] is True


def test_off_writes_no_pickle(make_project, monkeypatch):
    monkeypatch.setenv("BILLING_CACHE_DIR", "off")
    project = make_project()
    parse(project)
    parse(project)
    assert saved(project).exists() and not pickled(project).exists()
