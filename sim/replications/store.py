"""A batch on disk: the folder, its manifest, and the Parquet parts it lists.

Layout of a batch folder (:class:`ReplicationStore`)::

    manifest.json                       identity, seed, parts done, failures
    parts/<table>/part-000007.parquet   one file per table per finished chunk
    batch.lock                          while a process writes (see .lock)

Each part is written to a temporary name and moved into place with
``os.replace``, and the manifest is rewritten the same way after every part,
so a batch killed at any instant (even by SIGKILL) keeps every chunk that had
finished, and ``resume=True`` runs only what is missing.

This is its own module because it is the one part of the engine whose
choices outlive a process: the :data:`FORMAT` string, the manifest's keys and
the part names are what existing batch folders are read back by. It also
holds the Arrow helpers that turn a chunk's DataFrames into one typed table
and concatenate parts whose all-null columns were typed differently, since
writing and reading parts both depend on them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from paxsim.sim.replications.planner import ChunkResult

__all__ = [
    "FORMAT",
    "MANIFEST",
    "REPLICATION",
    "NotABatchError",
    "ReplicationStore",
    "ResumeMismatchError",
    "StoreExistsError",
    "holds_batches",
    "is_batch_folder",
    "manifest_format",
    "open_store",
]

#: The column every stored table gains: which replication a row came from.
REPLICATION = "replication"
MANIFEST = "manifest.json"
FORMAT = "sim.replications/1"


class StoreExistsError(Exception):
    """The output folder already holds a batch and ``resume`` was not asked for."""


class ResumeMismatchError(Exception):
    """``resume`` was asked for, but the batch on disk was made with other inputs."""


class NotABatchError(Exception):
    """The output folder holds a ``manifest.json`` that is not a batch's (say, a single run)."""


def manifest_format(root: str | Path) -> str | None:
    """The ``format`` of ``root/manifest.json``: None if there is none, "" if it has none."""
    path = Path(root) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError):
        return "" if path.exists() else None
    return str(data.get("format", "")) if isinstance(data, dict) else ""


def is_batch_folder(root: str | Path) -> bool:
    """``root`` holds a batch, or one is being started there (its lock or parts exist)."""
    from paxsim.sim.replications.lock import LOCK_NAME

    root = Path(root)
    try:
        if (root / LOCK_NAME).exists() or (root / "parts").is_dir():
            return True
    except OSError:
        return False
    return manifest_format(root) == FORMAT


def holds_batches(root: str | Path) -> bool:
    """``root`` is a batch folder or has one directly inside it (as a comparison does)."""
    root = Path(root)
    if is_batch_folder(root):
        return True
    try:
        children = [child for child in root.iterdir() if child.is_dir()]
    except OSError:
        return False
    return any(is_batch_folder(child) for child in children)


# ------------------------------------------------------------------------------ arrow
def _arrow_safe(frame: pd.DataFrame) -> pa.Table:
    """Parquet wants one type per column: stringify object columns of mixed types."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fixed = frame.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                mask = fixed[col].notna()
                fixed[col] = fixed[col].where(~mask, fixed[col].astype(str))
        return pa.Table.from_pandas(fixed, preserve_index=False)


def _cast_all_null_columns(tables: Sequence[pa.Table]) -> list[pa.Table]:
    """Give an all-null column the type other tables give it.

    pandas infers a column's type from its values, so a column that is empty
    in one replication (say, a date no phase reached) can come out as another
    type than in the next; being all null, it can take any type losslessly.
    """
    typed: dict[str, pa.DataType] = {}
    for table in tables:
        for fld, column in zip(table.schema, table.columns, strict=True):
            if column.null_count < len(column) and fld.name not in typed:
                typed[fld.name] = fld.type
    out = []
    for table in tables:
        for i, fld in enumerate(table.schema):
            want = typed.get(fld.name)
            column = table.column(i)
            if want is not None and fld.type != want and column.null_count == len(column):
                table = table.set_column(i, fld.with_type(want), pa.nulls(len(column), want))
        out.append(table)
    return out


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate parts whose all-null columns may have been typed differently."""
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(_cast_all_null_columns(tables), promote_options="permissive")


def _to_arrow(frames: Sequence[pd.DataFrame]) -> pa.Table:
    """One Arrow table for a chunk's frames of one table.

    Converting once per chunk is several times cheaper than once per
    replication; if pandas cannot reconcile the frames' types, fall back to
    converting each one and unifying in Arrow.
    """
    try:
        return _arrow_safe(pd.concat(frames, ignore_index=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return _concat([_arrow_safe(frame) for frame in frames])


# ------------------------------------------------------------------------------ storage
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _normalise(value: Mapping[str, Any]) -> dict[str, Any]:
    """What a mapping looks like after a JSON round trip (how it is compared on resume)."""
    out: dict[str, Any] = json.loads(json.dumps(dict(value), sort_keys=True, default=str))
    return out


class ReplicationStore:
    """A batch folder: parts written atomically, and a manifest that lists them.

    Only parts named in the manifest count. A part file without a manifest
    entry (the process died between the two writes) is an orphan; it is
    removed on resume and its replications are run again.
    """

    def __init__(self, root: str | Path, manifest: dict[str, Any]) -> None:
        self.root = Path(root)
        self.manifest = manifest

    # -- creating and opening
    @classmethod
    def exists(cls, root: str | Path) -> bool:
        return (Path(root) / MANIFEST).is_file()

    @classmethod
    def create(
        cls,
        root: str | Path,
        seed: int,
        identity: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
    ) -> ReplicationStore:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": FORMAT,
            "seed": int(seed),
            "identity": _normalise(identity),
            "meta": _normalise(meta or {}),
            "n_replications": 0,
            "status": "created",
            "created": _now(),
            "updated": _now(),
            "parts": [],
            "failures": [],
        }
        store = cls(root, manifest)
        store.save()
        return store

    @classmethod
    def open(cls, root: str | Path) -> ReplicationStore:
        path = Path(root) / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{root}: no {MANIFEST}; not a batch folder")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown format {manifest.get('format')!r}, want {FORMAT}")
        return cls(root, manifest)

    def check_identity(self, seed: int, identity: Mapping[str, Any]) -> None:
        """Raise :class:`ResumeMismatchError` naming every input that differs."""
        problems = []
        if self.manifest["seed"] != seed:
            problems.append(f"seed: the batch on disk used {self.manifest['seed']}, not {seed}")
        stored = self.manifest["identity"]
        asked = _normalise(identity)
        for key in sorted(set(stored) | set(asked)):
            if stored.get(key) != asked.get(key):
                problems.append(
                    f"{key}: the batch on disk has {stored.get(key)!r}, this run {asked.get(key)!r}"
                )
        if problems:
            raise ResumeMismatchError(
                f"cannot resume the batch in {self.root}: it was made with other inputs\n  "
                + "\n  ".join(problems)
                + "\nUse another output folder, or rerun with the original inputs."
            )

    # -- writing
    def save(self) -> None:
        self.manifest["updated"] = _now()
        text = json.dumps(self.manifest, indent=1, default=str) + "\n"
        _atomic_write_bytes(self.root / MANIFEST, text.encode("utf-8"))

    def _part_path(self, table: str, part: int) -> Path:
        return self.root / "parts" / table / f"part-{part:06d}.parquet"

    def next_part(self) -> int:
        return 1 + max((p["part"] for p in self.manifest["parts"]), default=-1)

    def add(self, result: ChunkResult) -> None:
        """Write a chunk's tables (each atomically), then record them in the manifest."""
        if not result.replications:
            return
        part = self.next_part()
        files: dict[str, str] = {}
        rows: dict[str, int] = {}
        for name, table in sorted(result.tables.items()):
            path = self._part_path(name, part)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
            pq.write_table(table, tmp)
            os.replace(tmp, path)
            files[name] = str(path.relative_to(self.root))
            rows[name] = table.num_rows
        self.manifest["parts"].append(
            {
                "part": part,
                "replications": list(result.replications),
                "failed": [f.replication for f in result.failures],
                "files": files,
                "rows": rows,
                "seconds": round(result.seconds, 3),
                "worker": result.worker,
                "finished": _now(),
            }
        )
        self.manifest["failures"].extend(f.as_dict() for f in result.failures)
        self.save()

    def remove_orphans(self) -> list[Path]:
        """Delete part and temporary files the manifest does not list."""
        listed = {self.root / f for p in self.manifest["parts"] for f in p["files"].values()}
        removed = []
        parts_dir = self.root / "parts"
        if parts_dir.is_dir():
            for path in parts_dir.rglob("*"):
                if path.is_file() and path not in listed:
                    path.unlink()
                    removed.append(path)
        for tmp in self.root.glob(f"{MANIFEST}.tmp*"):
            tmp.unlink()
            removed.append(tmp)
        return removed

    # -- reading
    def done(self) -> set[int]:
        """Replications finished, successfully or not (a failure is deterministic)."""
        return {i for p in self.manifest["parts"] for i in p["replications"]}

    def failures(self) -> pd.DataFrame:
        columns = ["replication", "error", "traceback"]
        return pd.DataFrame(self.manifest["failures"], columns=columns)

    def table_names(self) -> list[str]:
        return sorted({name for p in self.manifest["parts"] for name in p["files"]})

    def columns(self, name: str) -> list[str]:
        """Column names of a stored table, from the union of its parts' schemas."""
        seen: dict[str, None] = {}
        for part in self.manifest["parts"]:
            rel = part["files"].get(name)
            if rel is not None:
                seen.update(dict.fromkeys(pq.read_schema(self.root / rel).names))
        return list(seen)

    def read_arrow(
        self, name: str, columns: Sequence[str] | None = None, below: int | None = None
    ) -> pa.Table | None:
        """All parts of one table as Arrow, sorted (stably) by replication.

        ``below`` keeps replications ``< below`` only, so a batch extended past
        ``n`` can still be analysed at ``n``.
        """
        cols = None if columns is None else list(dict.fromkeys([REPLICATION, *columns]))
        pieces = []
        for part in self.manifest["parts"]:
            rel = part["files"].get(name)
            if rel is None:
                continue
            table = pq.read_table(self.root / rel, columns=cols)
            if below is not None:
                table = table.filter(pc.less(table[REPLICATION], below))
            pieces.append(table)
        if not pieces:
            return None
        table = _concat(pieces)
        return table.sort_by([(REPLICATION, "ascending")])

    def read_table(
        self, name: str, columns: Sequence[str] | None = None, below: int | None = None
    ) -> pd.DataFrame:
        """One stored table as pandas, rows in replication order (an empty frame if none)."""
        table = self.read_arrow(name, columns, below)
        if table is None:
            return pd.DataFrame({REPLICATION: pd.Series(dtype="int64")})
        return table.to_pandas()


def open_store(
    out: str | Path,
    seed: int,
    identity: Mapping[str, Any],
    meta: Mapping[str, Any] | None,
    resume: bool,
) -> ReplicationStore:
    """Create the batch folder, or reopen it for ``resume`` after checking its inputs.

    Call it holding the folder's :class:`~paxsim.sim.replications.lock.BatchLock`
    (:func:`~paxsim.sim.replications.runner.run_replications` does): resuming
    removes part files the manifest does not list, which would be another
    writer's work in progress.
    """
    if ReplicationStore.exists(out):
        found = manifest_format(out)
        if found != FORMAT:
            kind = f"format {found!r}" if found else "no batch format"
            raise NotABatchError(
                f"{out} holds a manifest.json that is not a batch's ({kind}); a batch would "
                "overwrite it. Choose another output folder"
            )
        if not resume:
            raise StoreExistsError(
                f"{out} already holds a batch; add --resume (resume=True) to finish it, "
                "or choose another output folder"
            )
        store = ReplicationStore.open(out)
        store.check_identity(seed, identity)
        store.remove_orphans()
        return store
    return ReplicationStore.create(out, seed, identity, meta)
