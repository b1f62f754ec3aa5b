"""The ML Test Score (Breck et al. 2017): 28 tests in four sections, each mapped to our evidence.

Each test names the automated checks that prove it (pytest ids, `path::function`; a bare path
means every test of the file) and, where no automation exists, the document describing the
manual procedure (path, and a phrase that must appear in it). Scoring, per the paper: 1 when
every mapped check ran and passed in this run, 0.5 for a documented manual procedure, 0
otherwise; a section scores the sum of its 7 tests; the final score is the lowest section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

SECTIONS: Final = ("data", "model", "infrastructure", "monitoring")


@dataclass(frozen=True)
class MlTest:
    key: str
    section: str
    title: str
    automated: tuple[str, ...] = ()
    manual: tuple[str, str] | None = None  # (document, phrase it must contain)


@dataclass(frozen=True)
class Outcome:
    """What ran: pytest id (params stripped) -> passed; an id that ran twice must pass twice."""

    passed: dict[str, bool] = field(default_factory=dict)

    def proves(self, check: str) -> bool:
        if "::" in check:
            ran = [ok for case, ok in self.passed.items() if case == check]
        else:
            ran = [ok for case, ok in self.passed.items() if case.split("::", 1)[0] == check]
        return bool(ran) and all(ran)


def score(test: MlTest, outcome: Outcome, documented: bool) -> float:
    if test.automated and all(outcome.proves(c) for c in test.automated):
        return 1.0
    if test.manual is not None and documented:
        return 0.5
    return 0.0


_F = "tests/domain/test_features.py"
_P = "tests/domain/test_promotion.py"
_X = "tests/adapters/test_expectations.py"
_S = "tests/adapters/test_shap_explainer.py"
_O = "tests/deploy/test_observability.py"
_E = "tests/adapters/test_evidently_reports.py"
_C = "tests/cli/test_pipeline.py"
TESTS: Final = (
    MlTest("data-1", "data", "Feature expectations are captured in a schema",
           (f"{_X}::test_an_impossible_value_is_named", f"{_X}::test_an_unknown_category_is_named",
            f"{_X}::test_a_wrong_type_is_named")),
    MlTest("data-2", "data", "All features are beneficial",
           ("tests/domain/test_feature_value.py::test_every_model_input_moves_some_prediction",)),
    MlTest("data-3", "data", "No feature's cost is too much",
           (f"{_F}::test_large_inputs_map_each_distinct_text_once_and_give_the_same_values",)),
    MlTest("data-4", "data", "Features adhere to meta-level requirements",
           ("tests/data/test_snapshot.py::test_checksums_match_the_provenance_note",
            "tests/test_house.py::test_a_stage_s_deps_cover_the_import_closure_of_its_code")),
    MlTest("data-5", "data", "The data pipeline has appropriate privacy controls",
           ("tests/security/test_security.py::test_no_secret_in_any_tracked_file",
            "tests/security/test_security.py::test_the_secrets_scanner_would_catch_a_committed_key")),
    MlTest("data-6", "data", "New features can be added quickly",
           ("tests/test_house.py::test_editing_code_marks_exactly_the_stages_that_run_it",)),
    MlTest("data-7", "data", "All input feature code is tested", (_F,)),
    MlTest("model-1", "model", "Model specs are reviewed and submitted (versioned, validated)",
           ("tests/config/test_params_yaml.py",)),
    MlTest("model-2", "model", "Offline and online metrics correlate",
           (f"{_E}::test_labelled_rows_give_live_accuracy_and_a_classification_report",
            "tests/serving/test_serving_skew.py")),
    MlTest("model-3", "model", "All hyperparameters have been tuned",
           ("tests/pipelines/test_training_flow.py::test_the_search_on_dask_picks_what_the_sequential_search_picks",)),
    MlTest("model-4", "model", "The impact of model staleness is known",
           ("tests/domain/test_traffic.py::test_concept_moves_men_into_the_silver_region_where_all_survive",
            "tests/services/test_anomaly.py::test_the_concept_scenarios_old_third_class_men_are_anomalous")),
    MlTest("model-5", "model", "A simpler model is not better",
           (f"{_P}::test_a_point_above_the_baseline_is_not_enough_when_the_interval_reaches_zero",)),
    MlTest("model-6", "model", "Model quality is sufficient on important data slices",
           (f"{_P}::test_a_failing_slice_refuses_but_tiny_slices_are_not_judged",)),
    MlTest("model-7", "model", "The model is tested for considerations of inclusion",
           ("tests/domain/test_fairness.py",)),
    MlTest("infra-1", "infrastructure", "Training is reproducible",
           (f"{_C}::test_retraining_on_the_same_data_and_params_gives_identical_metrics",)),
    MlTest("infra-2", "infrastructure", "Model specs are unit tested",
           (f"{_S}::test_base_value_plus_contributions_is_the_output", "tests/config/test_params_yaml.py")),
    MlTest("infra-3", "infrastructure", "The ML pipeline is integration tested",
           ("tests/test_house.py::test_editing_code_marks_exactly_the_stages_that_run_it",
            "tests/test_house.py::test_the_workspace_copy_holds_every_dep_the_stages_declare")),
    MlTest("infra-4", "infrastructure", "Model quality is validated before attempting to serve it",
           (f"{_P}::test_below_the_accuracy_floor_is_refused_with_the_reason",
            f"{_P}::test_non_inferiority_is_judged_on_the_low_end_of_the_paired_interval")),
    MlTest("infra-5", "infrastructure", "The model is debuggable",
           (f"{_S}::test_base_value_plus_contributions_is_the_output",
            f"{_S}::test_the_top_reason_is_sex_or_class")),
    MlTest("infra-6", "infrastructure", "Models are canaried before serving",
           ("tests/services/test_scoring.py::test_the_golden_inputs_are_the_request_path_s",)),
    MlTest("infra-7", "infrastructure", "Serving models can be rolled back",
           ("tests/e2e/test_loop.py::test_the_loop_retrains_on_concept_drift_and_the_api_follows",),
           ("docs/monitoring.md", "titanic-mlops rollback")),
    MlTest("monitor-1", "monitoring", "Dependency changes result in notification",
           ("tests/security/test_security.py::test_sbom_lists_every_pinned_component_with_its_hashes",
            "tests/deploy/test_workflows.py::test_every_action_is_pinned_to_a_commit_sha")),
    MlTest("monitor-2", "monitoring", "Data invariants hold for inputs (training and serving)",
           (f"{_X}::test_an_impossible_value_is_named", "tests/services/test_ingest.py")),
    MlTest("monitor-3", "monitoring", "Training and serving features compute the same values",
           (f"{_F}::test_a_frame_and_its_records_give_the_same_inputs",
            "tests/services/test_scoring.py::test_a_request_record_and_the_same_row_of_a_file_score_alike")),
    MlTest("monitor-4", "monitoring", "Models are not too stale",
           (f"{_O}::test_each_required_alert_exists", f"{_O}::test_promtool_accepts")),
    MlTest("monitor-5", "monitoring", "Models are numerically stable",
           ("tests/services/test_anomaly.py::test_the_shipped_arrays_score_like_scikit_learns_forest",
            f"{_C}::test_onnx_probabilities_equal_the_registered_pipeline_on_every_test_row")),
    MlTest("monitor-6", "monitoring", "Computing performance has not regressed",
           ("tests/serving/test_metrics_health.py",
            f"{_O}::test_promtool_accepts")),
    MlTest("monitor-7", "monitoring", "Prediction quality has not regressed",
           ("tests/domain/test_monitoring_policy.py::test_quality_under_the_floor_alarms_only_with_enough_labels",
            "tests/services/test_anomaly.py::test_snapshot_passengers_are_rarely_anomalous")),
)  # fmt: skip
