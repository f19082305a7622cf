"""Pooling and multiple testing, checked against values computed by hand."""

import numpy as np
import pytest

from engagement.pooling import benjamini_hochberg, dersimonian_laird, standard_error


def test_dersimonian_laird_by_hand():
    # y = 1, 2, 4 with se = 1: w = 1 each, fixed = 7/3, Q = (16 + 1 + 25)/9 = 42/9,
    # c = 3 - 3/3 = 2, tau2 = (42/9 - 2)/2 = 4/3, w* = 3/7 each, pooled = 7/3,
    # se = sqrt(7/9), I2 = (42/9 - 2)/(42/9) = 4/7.
    fit = dersimonian_laird([1, 2, 4], [1, 1, 1])
    assert fit["tau2"] == pytest.approx(4 / 3)
    assert fit["estimate"] == pytest.approx(7 / 3)
    assert fit["i2"] == pytest.approx(4 / 7)
    assert fit["ci_high"] - fit["estimate"] == pytest.approx(1.959964 * np.sqrt(7 / 9), rel=1e-5)


def test_homogeneous_schools_have_no_heterogeneity():
    fit = dersimonian_laird([2.0, 2.0, 2.0], [0.5, 1.0, 2.0])
    assert fit["tau2"] == 0 and fit["i2"] == 0 and fit["estimate"] == pytest.approx(2.0)


def test_benjamini_hochberg_by_hand():
    # p = .01 .04 .03 .20 (m = 4): sorted .01 .03 .04 .20 -> .04 .06 .0533 .20,
    # running minimum from the top: .04 .0533 .0533 .20.
    adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.20, np.nan])
    assert adjusted[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert np.isnan(adjusted[4])


def test_standard_error_from_a_95_interval():
    assert standard_error(0.0, 2 * 1.959964) == pytest.approx(1.0, rel=1e-6)
