"""The meta-evaluation arithmetic on known inputs: direction-aware Spearman and adjacent pairs."""

import math

import numpy as np
import pandas as pd
import pytest

from exprbench_app.validate.meta import (
    adjacent_pairs,
    metric_columns,
    score_ladder,
    spearman,
    unit_table,
)


def test_spearman_is_one_for_a_perfect_order_in_either_direction():
    assert spearman([30.0, 25.0, 20.0, 10.0], "higher") == pytest.approx(1.0)  # PSNR falls down the ladder
    assert spearman([0.1, 0.2, 0.3, 0.5], "lower") == pytest.approx(1.0)  # LPIPS rises down the ladder
    assert spearman([0.1, 0.2, 0.3, 0.5], "higher") == pytest.approx(-1.0)
    assert spearman([math.inf, 35.0, 31.0], "higher") == pytest.approx(1.0)  # PSNR of identical frames


def test_spearman_ranks_ties_by_their_average_rank():
    # ranks of quality 4,3,2,1 vs values ranked 3.5,3.5,2,1: r = 0.9487
    assert spearman([5.0, 5.0, 3.0, 1.0], "higher") == pytest.approx(0.9486833, abs=1e-6)
    assert spearman([1.0, 2.0, 4.0, 3.0], "lower") == pytest.approx(0.8)


def test_spearman_is_nan_without_an_ordering_to_judge():
    assert math.isnan(spearman([2.0, 2.0, 2.0], "lower"))  # a metric that never changes orders nothing
    assert math.isnan(spearman([1.0, math.nan, math.nan], "lower"))
    assert spearman([1.0, math.nan, 3.0], "lower") == pytest.approx(1.0)  # a missing rung is left out
    with pytest.raises(ValueError):
        spearman([1.0, 2.0], "up")


def test_adjacent_pairs_count_strictly_right_orderings_per_unit():
    table = np.array([[10.0, 5.0, 7.0],   # rung 0 (best)
                      [8.0, 5.0, np.nan],  # rung 1: unit 1 tied, unit 2 missing
                      [9.0, 4.0, 6.0]])   # rung 2
    assert adjacent_pairs(table, "higher") == (2, 4, 2)  # (0,1) u0; (1,2) u1; tie and reversal not earned
    assert adjacent_pairs(table, "lower") == (1, 4, 2)  # only (1,2) u0: 8 < 9


def test_score_ladder_passes_only_at_spearman_point_nine():
    good = score_ladder("psnr@v2", "blur", "self", "higher", ["gt", "b1", "b2"],
                        np.array([[40.0, 38.0], [30.0, 31.0], [20.0, 25.0]]))
    assert good.passed and good.spearman == pytest.approx(1.0) and (good.pairs_correct, good.pairs_total) == (4, 4)
    assert good.rung_means == [39.0, 30.5, 22.5]
    flat = score_ladder("mae@v2", "lag", "self", "lower", ["a", "b", "c"], np.ones((3, 2)))
    assert not flat.passed and math.isnan(flat.spearman) and flat.pairs_correct == 0


def test_unit_table_aligns_items_and_faces_across_rungs():
    a = pd.DataFrame({"item_id": ["x", "y", "y"], "face": [0, 0, 1], "mode": "self", "psnr@v2": [1.0, 2.0, 3.0]})
    b = pd.DataFrame({"item_id": ["y", "x", "z"], "face": [1, 0, 0], "mode": ["self", "self", "cross"],
                      "psnr@v2": [6.0, np.nan, 9.0]})
    table = unit_table([a, b], "psnr@v2", "self")
    np.testing.assert_array_equal(table, [[1.0, 2.0, 3.0], [np.nan, np.nan, 6.0]])
    assert metric_columns(a) == ["psnr@v2"]
    assert metric_columns(pd.DataFrame(columns=["item_id", "psnr@v2_coverage", "motion@v2", "aed@v1"])) == [
        "motion@v2", "aed@v1"]


def test_identity_check_counts_faces_against_the_band():
    from exprbench_app.validate.run import IdentityCheck

    check = IdentityCheck(wrong_person=0.88, right_person=0.98, band=(0.81, 0.90),
                          per_unit={"a#0": 0.86, "b#0": 0.95, "b#1": math.nan, "c#0": 0.90})
    assert check.in_band and check.faces_in_band == (2, 3, 1)
    assert not IdentityCheck(0.91, 0.98, (0.81, 0.90)).in_band
    assert not IdentityCheck(math.nan, 0.98, (0.81, 0.90)).in_band  # no value is no evidence


def test_set_metrics_are_read_per_split_from_each_rung_summary():
    from exprbench_app.validate.run import _set_metric_table

    def summary(single, multi):
        return {"splits": {"single": {"self": {"metrics": {"fid@v2": {"value": single}}}},
                           "multi": {"self": {"metrics": {"fid@v2": {"value": multi}}}, "cross": {"metrics": {}}}}}

    table = _set_metric_table([summary(1.0, 2.0), summary(3.0, None), {"splits": {}}], "fid@v2", "self")
    np.testing.assert_array_equal(table, [[2.0, 1.0], [np.nan, 3.0], [np.nan, np.nan]])  # splits sorted: multi, single
    assert score_ladder("fid@v2", "blur", "self", "lower", ["a", "b", "c"], table).spearman == pytest.approx(1.0)
