"""dbt's saved manifest read back from a pickle of it, not decoded from MessagePack each process.

Every `billing` command that runs dbt starts from the manifest dbt saved after its last parse
(target/billing/partial_parse.msgpack, build.PARSE_TARGET) and checks it against the project's files.
Decoding that file builds about 2,000 dataclasses through mashumaro, whose decoders are generated
and compiled the first time a process needs them: 0.5-0.6 s of the parse of the 10 M benchmark's
project, a tenth of a micro-batch build's start. A pickle of the same objects loads in about 0.1 s.

So the first process that decodes a given partial_parse.msgpack also writes what it decoded, as a
pickle beside it (`partial_parse.msgpack.billing.pickle`, a temporary file renamed), headed by the
SHA-256 of the MessagePack bytes and the versions of the packages that define the classes. A later
process whose partial_parse.msgpack has the same bytes (dbt rewrites it only when the project
changed) loads the pickle instead, and dbt's own checks then run on that manifest as on a decoded one
(`ManifestLoader.is_partial_parsable`: dbt version, vars, profile, env vars; then its partial parse
compares every file's checksum), so what a parse returns is what dbt alone returns. Any other
header, an unreadable file or `BILLING_CACHE_DIR=off` decodes the MessagePack, as dbt does.

The pickle holds the manifest's serialized fields, the ones the MessagePack holds: the rest (locks,
lookups) is rebuilt as decoding rebuilds it. (`Manifest.__reduce_ex__` is not used: it omits
`fixtures` and so shifts every later field.)

    >>> install()
    >>> from dbt.parser.manifest import ManifestLoader
    >>> ManifestLoader.read_manifest_for_partial_parse.__name__
    'read_cached_manifest_for_partial_parse'
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from . import jinja_cache, schema_cache

FORMAT = "billing-manifest-pickle-1"
SUFFIX = ".billing.pickle"
_state: dict[str, object] = {"installed": False}
# the distributions whose classes a pickled manifest holds (schema_cache's, and those of dbt's
# semantic-layer nodes and of the timestamps' time zones)
DISTRIBUTIONS = (*schema_cache.DISTRIBUTIONS, "dbt-semantic-interfaces", "python-dateutil")


def _key(data: bytes) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    return f"{FORMAT} {schema_cache.versions(DISTRIBUTIONS)} {digest}\n".encode()


def _fields(manifest_class) -> list[str]:
    """The fields the MessagePack holds (dbt marks the others `serialize: None`)."""
    return [f.name for f in dataclasses.fields(manifest_class) if "serialize" not in f.metadata]


def load(path: Path, data: bytes):
    """The manifest pickled for these MessagePack bytes, or None."""
    from dbt.contracts.graph.manifest import Manifest

    try:
        with open(f"{path}{SUFFIX}", "rb") as fh:
            if fh.readline() != _key(data):
                return None
            values = pickle.load(fh)
        return Manifest.__post_deserialize__(Manifest(**values))
    except Exception:  # missing, truncated or from other code: decode the MessagePack instead
        return None


def store(path: Path, data: bytes, manifest) -> None:
    """Pickle `manifest`, decoded from `data`, beside the MessagePack (atomically; best effort)."""
    target = Path(f"{path}{SUFFIX}")
    values = {name: getattr(manifest, name) for name in _fields(type(manifest))}
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_key(data))
                pickle.dump(values, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except Exception:  # a read-only or full disk, or an object that does not pickle: decoding stays
        pass


def install() -> None:
    """Make dbt's partial parse read and write the pickle (once per process)."""
    if _state["installed"]:
        return
    from dbt.flags import get_flags
    from dbt.parser.manifest import PARTIAL_PARSE_FILE_NAME, ManifestLoader
    from dbt.tracking import get_invocation_id

    read = ManifestLoader.read_manifest_for_partial_parse

    def read_cached_manifest_for_partial_parse(self):
        flags = get_flags()
        path = flags.PARTIAL_PARSE_FILE_PATH or os.path.join(
            self.root_project.project_target_path, PARTIAL_PARSE_FILE_NAME
        )
        if not flags.PARTIAL_PARSE or jinja_cache.cache_root() is None:
            return read(self)
        try:
            data = Path(path).read_bytes()
        except OSError:
            return read(self)  # no saved manifest: dbt says so and parses everything
        manifest = load(path, data)
        if manifest is None:
            manifest = read(self)
            if manifest is not None and Path(path).read_bytes() == data:
                store(path, data, manifest)  # as decoded: dbt has only stamped generated_at and the invocation
            return manifest
        try:
            reusable = self.is_partial_parsable(manifest)[0]
        except Exception:  # as dbt's own reader: a manifest it cannot check is parsed again
            reusable = False
        if not reusable:
            return read(self)  # dbt decodes it again and reports why it parses everything
        # what dbt does to a saved manifest it reuses (read_manifest_for_partial_parse)
        manifest.metadata.generated_at = datetime.now(UTC).replace(tzinfo=None)
        manifest.metadata.invocation_id = get_invocation_id()
        return manifest

    ManifestLoader.read_manifest_for_partial_parse = read_cached_manifest_for_partial_parse
    _state["installed"] = True
