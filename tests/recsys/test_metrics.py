"""Metric functions against rankings computed by hand."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.metrics import (
    catalogue_coverage,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
)

# user 0: ranks [1, 2, 3, 4]; relevant {1, 3}: hits at ranks 1 and 3
# user 1: ranks [5, 6, 7, 8]; relevant {0}: no hit
# user 2: ranks [0, 9, -1, -1] (short list); relevant {9, 4, 5}: hit at rank 2
REC = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [0, 9, -1, -1]])
REL = [{1, 3}, {0}, {9, 4, 5}]


def test_precision_divides_by_k_even_for_short_lists() -> None:
    assert precision_at_k(REC, REL, 4) == pytest.approx((2 / 4 + 0 + 1 / 4) / 3)
    assert precision_at_k(REC, REL, 2) == pytest.approx((1 / 2 + 0 + 1 / 2) / 3)


def test_recall_divides_by_the_number_of_relevant_items() -> None:
    assert recall_at_k(REC, REL, 4) == pytest.approx((2 / 2 + 0 + 1 / 3) / 3)


def test_hit_rate() -> None:
    assert hit_rate_at_k(REC, REL, 4) == pytest.approx(2 / 3)
    assert hit_rate_at_k(REC, REL, 1) == pytest.approx(1 / 3)


def test_ndcg_by_hand() -> None:
    d = [1 / math.log2(i + 1) for i in range(1, 5)]
    u0 = (d[0] + d[2]) / (d[0] + d[1])
    u2 = d[1] / (d[0] + d[1] + d[2])
    assert ndcg_at_k(REC, REL, 4) == pytest.approx((u0 + 0 + u2) / 3)


def test_map_by_hand() -> None:
    u0 = (1 / 1 + 2 / 3) / 2
    u2 = (1 / 2) / 3
    assert map_at_k(REC, REL, 4) == pytest.approx((u0 + 0 + u2) / 3)
    # AP@k divides by min(|R|, k): with k = 1 user 0 has one possible hit and got it
    assert map_at_k(REC, REL, 1) == pytest.approx((1.0 + 0 + 0) / 3)


def test_perfect_ranking_scores_one() -> None:
    rec = np.array([[3, 1, 0], [2, 0, 1]])
    rel = [{3, 1}, {2}]
    assert ndcg_at_k(rec, rel, 3) == pytest.approx(1.0)
    assert map_at_k(rec, rel, 3) == pytest.approx(1.0)
    assert recall_at_k(rec, rel, 3) == pytest.approx(1.0)


def test_users_without_relevant_items_are_left_out() -> None:
    rec = np.array([[0, 1], [0, 1]])
    assert precision_at_k(rec, [{0}, set()], 2) == pytest.approx(0.5)


def test_sparse_and_list_relevance_agree() -> None:
    rows, cols = zip(*[(u, i) for u, items in enumerate(REL) for i in items], strict=True)
    rel = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(3, 10))
    assert ranking_metrics(REC, rel, 4, 10) == pytest.approx(ranking_metrics(REC, REL, 4, 10))


def test_catalogue_coverage() -> None:
    assert catalogue_coverage(REC, 20) == pytest.approx(10 / 20)
    with pytest.raises(ValueError, match="n_items"):
        catalogue_coverage(REC, 0)
