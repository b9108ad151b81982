"""The served segmentation's uniform sample, held per worker: what the Segments view filters, in numpy.

The published ``segment_members`` rows carry ``sample_rank``, a random permutation of 0..n-1, so the rows of rank
below :data:`SAMPLE_CUSTOMERS` are a uniform random sample of the bank: all of it when the bank is smaller. A
worker reads them once per served version (a fixed size: about 30 MB whatever the bank's size) and answers every
filter of the view from them, a boolean mask instead of a query: 5-20 ms at any bank size, where a filtered
``GROUP BY`` over 1M rows costs 0.5-2 s on SQLite. Counts and revenue of a bank larger than the sample are
estimates (the sample's, scaled by ``n_customers / SAMPLE_CUSTOMERS``); the export stays an exact query.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bankdata import query
from segmentation import MEMBERS_TABLE

SAMPLE_CUSTOMERS = 50_000
"""Rows of lowest sample rank a worker holds (the whole bank when it is smaller)."""
READ_CHUNK = 20_000
"""Ranks read per query while loading (bounds the memory the rows take as Python objects)."""
_M = MEMBERS_TABLE


@dataclass(frozen=True)
class MemberSample:
    """The sample's columns, in sample-rank order (row ``i`` has rank ``i``)."""

    version: str
    n_customers: int  # in the bank (the served version), not in the sample
    customer_id: np.ndarray  # int64
    segment: np.ndarray  # int64
    pcs: np.ndarray  # (n, 2) float64
    region: np.ndarray  # object (str or None)
    products_mask: np.ndarray  # int64 bit mask of held products
    feature_names: tuple[str, ...]
    matrix: np.ndarray  # (n, len(feature_names)) float64

    def feature(self, name: str) -> np.ndarray:
        """One feature's column."""
        return self.matrix[:, self.feature_names.index(name)]

    @property
    def size(self) -> int:
        """Customers in the sample."""
        return len(self.customer_id)

    @property
    def exact(self) -> bool:
        """The sample is the whole bank."""
        return self.size >= self.n_customers

    @property
    def scale(self) -> float:
        """Bank customers per sampled customer (1 when exact)."""
        return self.n_customers / max(self.size, 1)


def load_sample(
    version: str,
    n_customers: int,
    columns: tuple[tuple[str, str], ...],
    url: str,
    size: int = SAMPLE_CUSTOMERS,
) -> MemberSample:
    """Read the ``size`` lowest ranks of ``version`` (``columns``: feature name, ``segment_members`` column) in
    rank chunks."""
    size = min(int(size), n_customers)
    cols = [
        _M.c.customer_id,
        _M.c.segment,
        _M.c.pc1,
        _M.c.pc2,
        _M.c.region,
        _M.c.products_mask,
        *(_M.c[column].label(name) for name, column in columns),
    ]
    parts = []
    for start in range(0, size, READ_CHUNK):
        stmt = (
            sa.select(*cols)
            .where(
                _M.c.model_version == version,
                _M.c.sample_rank >= start,
                _M.c.sample_rank < min(start + READ_CHUNK, size),
            )
            .order_by(_M.c.sample_rank)
            .limit(READ_CHUNK)
        )
        parts.append(query(stmt, url))
    frame = pd.concat(parts, ignore_index=True) if parts else query(sa.select(*cols).where(sa.false()), url)
    names = [name for name, _ in columns]
    return MemberSample(
        version=version,
        n_customers=int(n_customers),
        customer_id=frame["customer_id"].to_numpy(dtype=np.int64),
        segment=frame["segment"].to_numpy(dtype=np.int64),
        pcs=frame[["pc1", "pc2"]].to_numpy(dtype=np.float64),
        region=frame["region"].to_numpy(dtype=object),
        products_mask=frame["products_mask"].to_numpy(dtype=np.int64),
        feature_names=tuple(names),
        matrix=frame[names].to_numpy(dtype=np.float64),
    )


@functools.lru_cache(maxsize=2)
def cached_sample(
    version: str, n_customers: int, columns: tuple[tuple[str, str], ...], url: str, size: int
) -> MemberSample:
    """:func:`load_sample`, once per worker and served version."""
    return load_sample(version, n_customers, columns, url, size)


@dataclass(frozen=True)
class KeyedQuery:
    """A statement keyed by its SQL with the values written in (so equal queries share a cache entry; the
    statement itself is run with bound parameters)."""

    key: str
    statement: sa.Select = field(compare=False, hash=False)

    @classmethod
    def of(cls, statement: sa.Select) -> KeyedQuery:
        return cls(str(statement.compile(compile_kwargs={"literal_binds": True})), statement)


@functools.lru_cache(maxsize=64)
def _ranks_matching(q: KeyedQuery, url: str) -> np.ndarray:
    return query(q.statement, url)["sample_rank"].to_numpy(dtype=np.int64)


def ranks_in(sample: MemberSample, customers: sa.Select, url: str) -> np.ndarray:
    """A boolean mask of the sample: the customers that ``customers`` (a one-column select of ids) returns. One
    query per distinct subquery, cached (risk bands: a handful of choices per served risk version)."""
    stmt = (
        sa.select(_M.c.sample_rank)
        .where(
            _M.c.model_version == sample.version,
            _M.c.sample_rank < sample.size,
            _M.c.customer_id.in_(customers),
        )
        .limit(sample.size)
    )
    mask = np.zeros(sample.size, dtype=bool)
    mask[_ranks_matching(KeyedQuery.of(stmt), url)] = True
    return mask
