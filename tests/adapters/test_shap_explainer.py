"""SHAP on the fitted pipeline: values add up to the model's output, and the top reason is sensible."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.rai import fitted, inputs_of, snapshot
from titanic_mlops.adapters.shap_explainer import ExplanationError, PipelineExplainer
from titanic_mlops.domain import features


def explainer(family: str) -> PipelineExplainer:
    inputs, _ = snapshot()
    return PipelineExplainer(fitted(family), inputs.sample(100, random_state=0), features.MODEL_INPUTS)


@pytest.mark.parametrize(
    ("family", "space"),
    [("logistic_regression", "logit"), ("gradient_boosting", "logit"), ("random_forest", "probability")],
)
def test_base_value_plus_contributions_is_the_output(family: str, space: str) -> None:
    inputs, _ = snapshot()
    rows = inputs.iloc[:40]
    explained = explainer(family).explain(rows)
    assert explained.space == space
    assert list(explained.contributions.columns) == list(features.MODEL_INPUTS)
    p = fitted(family).predict_proba(rows)[:, 1]
    np.testing.assert_allclose(explained.probability, p, atol=1e-9)
    output = np.log(p / (1 - p)) if space == "logit" else p
    total = explained.base_value + explained.contributions.sum(axis=1).to_numpy()
    assert np.max(np.abs(total - output)) <= 1e-3


@pytest.mark.parametrize("family", ["logistic_regression", "gradient_boosting"])
@pytest.mark.parametrize(
    "passenger",
    [
        {
            "pclass": 1,
            "sex": "female",
            "title": "Mrs",
            "age": 38.0,
            "fare": 71.28,
            "has_cabin": 1,
            "deck": "C",
        },
        {"pclass": 3, "sex": "male", "title": "Mr", "age": 22.0, "fare": 7.25},
    ],
    ids=["first-class woman", "third-class man"],
)
def test_the_top_reason_is_sex_or_class(family: str, passenger: dict[str, object]) -> None:
    contributions = explainer(family).explain(inputs_of(**passenger)).contributions.iloc[0]
    top = contributions.abs().idxmax()
    # Men belong to no woman-child group (features.woman_child_groups), so for a man the group
    # input carries his sex; title carries sex and age. Anything else would be noise.
    assert top in {"sex", "title", "pclass", "wcg_group"}, contributions.sort_values().to_dict()


def test_an_unexplainable_estimator_names_itself() -> None:
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline

    inputs, labels = snapshot()
    pipeline = Pipeline([("preprocess", fitted("logistic_regression")[0]), ("model", DummyClassifier())])
    pipeline.fit(inputs, labels)
    with pytest.raises(ExplanationError, match="DummyClassifier"):
        PipelineExplainer(pipeline, inputs.iloc[:10], features.MODEL_INPUTS)
