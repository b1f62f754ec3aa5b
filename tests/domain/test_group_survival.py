"""The woman-child group's survival: leave-one-out on training rows, the fitted table on new rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from titanic_mlops.domain.features import NO_GROUP
from titanic_mlops.domain.group_survival import GroupSurvival


def keys(*values: str) -> pd.DataFrame:
    return pd.DataFrame({"wcg_group": list(values)})


def test_training_rows_see_only_their_group_mates_labels() -> None:
    x = keys("a", "a", "a", "b", NO_GROUP)
    out = GroupSurvival().fit_transform(x, np.array([1, 1, 0, 1, 1]))[:, 0]
    # a: each member sees the other two; b: alone, so unknown; no group: unknown
    assert out.tolist() == pytest.approx([0.0, 0.0, 0.5, 0.0, 0.0])


def test_a_passengers_own_label_never_reaches_its_own_feature() -> None:
    """Flip one label: that passenger's feature stays, its group mates' move."""
    x = keys("a", "a", "a")
    lived = GroupSurvival().fit_transform(x, np.array([1, 0, 0]))[:, 0]
    died = GroupSurvival().fit_transform(x, np.array([0, 0, 0]))[:, 0]
    assert lived[0] == died[0]
    assert (lived[1:] > died[1:]).all()


def test_new_rows_get_the_rate_of_the_groups_training_members() -> None:
    model = GroupSurvival().fit(keys("a", "a", "b"), np.array([1, 0, 0]))
    out = model.transform(keys("a", "b", "unseen", NO_GROUP))[:, 0]
    assert out.tolist() == pytest.approx([0.0, -0.5, 0.0, 0.0])
    assert model.table() == {"a": 0.0, "b": -0.5}


def test_fitting_without_labels_fails_naming_them() -> None:
    with pytest.raises(ValueError, match="labels"):
        GroupSurvival().fit_transform(keys("a"))
