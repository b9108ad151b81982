"""Score a portfolio stored as Parquet files, in this process or on a Dask cluster, with identical results.

The model travels as plain data (LightGBM text, feature spec and calibration as JSON strings), never as a pickle of
live objects; each worker rebuilds it once per process. Each Parquet partition is scored by the same function as
``RiskModel.score``, so the probabilities are the same bit for bit whichever way the work is spread.
"""

from __future__ import annotations

import functools
import glob
import json
import time
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bankdata import Artifact, DataValidationError
from risk.calibration import ScoreCalibrator
from risk.features import FeatureSpec
from risk.scoring import RiskModel

ModelPayload = tuple[str, str, str]  # (LightGBM model text, spec JSON, calibration JSON)


@dataclass(frozen=True)
class ScoreRun:
    """What a scoring run did: rows scored, partitions, output files and seconds, and where it ran."""

    rows: int
    partitions: int
    files: list[Path]
    seconds: float
    where: str


def model_payload(model: RiskModel) -> ModelPayload:
    """The model as three strings, safe to send to workers."""
    return (
        model.booster.model_to_string(),
        json.dumps(model.spec.to_dict()),
        json.dumps(model.calibrator.to_dict()),
    )


@functools.lru_cache(maxsize=4)
def _model_from(payload: ModelPayload) -> RiskModel:
    text, spec, calibration = payload
    return RiskModel(
        FeatureSpec.from_dict(json.loads(spec)),
        lgb.Booster(model_str=text),
        ScoreCalibrator.from_dict(json.loads(calibration)),
    )


def score_frame(frame: pd.DataFrame, payload: ModelPayload, keep: tuple[str, ...]) -> pd.DataFrame:
    """``keep`` columns of ``frame`` plus ``pd`` and ``band`` (text), for one partition."""
    scored = _model_from(payload).score(frame)
    out = frame.loc[:, list(keep)].copy()
    out["pd"] = scored["pd"].to_numpy(dtype=np.float64)
    out["band"] = pd.array(np.asarray(scored["band"], dtype=object), dtype="str")
    return out.reset_index(drop=True)


def parquet_files(pattern: str) -> list[Path]:
    """The files a glob names, sorted; a clear error when there are none."""
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not files:
        raise FileNotFoundError(f"no Parquet files match {pattern!r}")
    bad = [f.name for f in files if f.suffix.lower() != ".parquet"]
    if bad:
        raise DataValidationError(bad[0], "not a .parquet file (--data takes a glob of Parquet files)")
    return files


def keep_columns(files: list[Path], keep: tuple[str, ...] | None) -> tuple[str, ...]:
    """The columns to copy to the output: ``keep``, or every ``*_id`` column of the first file."""
    names = pq.read_schema(files[0]).names
    if keep is None:
        return tuple(c for c in names if c.endswith("_id"))
    missing = [c for c in keep if c not in names]
    if missing:
        raise DataValidationError(files[0].name, f"missing column(s) {', '.join(missing)} to keep")
    return keep


def _prepare_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty; choose a new output folder")
    out.mkdir(parents=True, exist_ok=True)


def score_local(files: list[Path], model: RiskModel, out: Path, keep: tuple[str, ...]) -> ScoreRun:
    """Score file by file in this process (pandas only), writing ``out/part.N.parquet``."""
    _prepare_out(out)
    started = time.perf_counter()
    payload = model_payload(model)
    written, rows = [], 0
    for n, path in enumerate(files):
        frame = pd.read_parquet(path)
        scored = score_frame(frame, payload, keep)
        target = out / f"part.{n}.parquet"
        scored.to_parquet(target, index=False)
        written.append(target)
        rows += len(scored)
    return ScoreRun(rows, len(files), written, time.perf_counter() - started, "local (this process)")


def score_dask(
    files: list[Path],
    model: RiskModel,
    out: Path,
    keep: tuple[str, ...],
    *,
    scheduler: str | None = None,
    local_cluster: int | None = None,
) -> ScoreRun:
    """Score with ``dask.dataframe`` over the Parquet partitions on a cluster (an address, or a LocalCluster).

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    local_cluster : int, optional
        Start a LocalCluster of this many single-threaded worker processes for the run.
    """
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    if (scheduler is None) == (local_cluster is None):
        raise ValueError("give either a scheduler address or a local cluster size")
    if local_cluster is not None and local_cluster < 1:
        raise ValueError(f"--local-cluster needs at least 1 worker, got {local_cluster}")
    _prepare_out(out)
    started = time.perf_counter()
    cluster = (
        LocalCluster(n_workers=local_cluster, threads_per_worker=1, processes=True, dashboard_address=None)
        if local_cluster
        else None
    )
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            payload = model_payload(model)
            ddf = dd.read_parquet([str(f) for f in files])
            meta = ddf._meta.loc[:, list(keep)].assign(pd=np.float64(0), band="A").iloc[:0]
            meta["band"] = meta["band"].astype("str")
            scored = ddf.map_partitions(score_frame, payload, keep, meta=meta)
            scored.to_parquet(str(out), write_index=False, compute=True)
            where = (
                f"dask cluster {client.scheduler.address} ({len(client.scheduler_info()['workers'])} workers)"
            )
            partitions = scored.npartitions
    finally:
        if cluster is not None:
            cluster.close()
    written = sorted(out.glob("*.parquet"))
    rows = sum(pq.read_metadata(f).num_rows for f in written)
    return ScoreRun(rows, partitions, written, time.perf_counter() - started, where)


def score_portfolio(
    pattern: str,
    artifact: Artifact,
    out: Path,
    *,
    keep: tuple[str, ...] | None = None,
    scheduler: str | None = None,
    local_cluster: int | None = None,
) -> ScoreRun:
    """Score every row of the Parquet files ``pattern`` names with a risk artifact; write Parquet parts to ``out``.

    Without ``scheduler`` or ``local_cluster`` the files are scored here, one after the other. The output has the
    ``keep`` columns (default: the ``*_id`` columns), ``pd`` and ``band``, in input order within each part.
    """
    files = parquet_files(pattern)
    cols = keep_columns(files, keep)
    model = RiskModel.load(artifact)
    if scheduler is None and local_cluster is None:
        return score_local(files, model, out, cols)
    return score_dask(files, model, out, cols, scheduler=scheduler, local_cluster=local_cluster)


def read_scores(out: Path) -> pd.DataFrame:
    """All parts of an output folder, in part order (``part.0``, ``part.1``, ...)."""
    parts = sorted(Path(out).glob("part.*.parquet"), key=lambda p: int(p.stem.split(".")[1]))
    if not parts:
        raise FileNotFoundError(f"no scored parts in {out}")
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
