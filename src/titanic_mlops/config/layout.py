"""Paths have one owner: every file the stages hand each other, and every place in the state dir.

`WorkspaceLayout` names the DVC workspace's files, relative to its root exactly as dvc.yaml
writes them (a test checks the two agree); the CLI's defaults, the flows, the benchmarks and the
tests take their paths from it. `StateLayout` names what lives under the state directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

# Relative to the workspace root, as dvc.yaml spells them.
RAW_TRAIN: Final = Path("data/external/titanic/train.csv")
RAW_TEST: Final = Path("data/external/titanic/test.csv")
FEEDBACK_DIR: Final = Path("data/feedback")
RECENT: Final = FEEDBACK_DIR / "recent.parquet"
INTERIM: Final = Path("data/interim/train.parquet")
VALIDATED: Final = Path("data/validated/train.parquet")
VALIDATION_REPORT: Final = Path("reports/validation/result.json")
VALIDATION_DOCS: Final = Path("reports/validation/docs")
FEATURES_DIR: Final = Path("data/features")
PASSENGERS: Final = FEATURES_DIR / "passengers.parquet"
TICKETS: Final = FEATURES_DIR / "tickets.parquet"
HOLDOUT: Final = Path("data/holdout/holdout.parquet")
METRICS: Final = Path("reports/metrics.json")
SLICES: Final = Path("reports/slices.json")
PLOTS: Final = Path("reports/plots")
CANDIDATE: Final = Path("reports/candidate.json")
PROMOTION: Final = Path("reports/promotion.json")
PARAMS: Final = Path("params.yaml")
FEATURE_REPO: Final = Path("feature_repo")
DVC_YAML: Final = Path("dvc.yaml")
DVC_LOCK: Final = Path("dvc.lock")


@dataclass(frozen=True)
class WorkspaceLayout:
    """A DVC workspace: the checkout, or a private copy of its pipeline layout."""

    root: Path = Path()

    def _at(self, relative: Path) -> Path:
        return self.root / relative

    @property
    def raw_train(self) -> Path:
        return self._at(RAW_TRAIN)

    @property
    def raw_test(self) -> Path:
        return self._at(RAW_TEST)

    @property
    def feedback_dir(self) -> Path:
        return self._at(FEEDBACK_DIR)

    @property
    def recent(self) -> Path:
        return self._at(RECENT)

    @property
    def interim(self) -> Path:
        return self._at(INTERIM)

    @property
    def validated(self) -> Path:
        return self._at(VALIDATED)

    @property
    def validation_report(self) -> Path:
        return self._at(VALIDATION_REPORT)

    @property
    def validation_docs(self) -> Path:
        return self._at(VALIDATION_DOCS)

    @property
    def features_dir(self) -> Path:
        return self._at(FEATURES_DIR)

    @property
    def passengers(self) -> Path:
        return self._at(PASSENGERS)

    @property
    def tickets(self) -> Path:
        return self._at(TICKETS)

    @property
    def holdout(self) -> Path:
        return self._at(HOLDOUT)

    @property
    def metrics(self) -> Path:
        return self._at(METRICS)

    @property
    def slices(self) -> Path:
        return self._at(SLICES)

    @property
    def plots(self) -> Path:
        return self._at(PLOTS)

    @property
    def candidate(self) -> Path:
        return self._at(CANDIDATE)

    @property
    def promotion(self) -> Path:
        return self._at(PROMOTION)

    @property
    def params(self) -> Path:
        return self._at(PARAMS)

    @property
    def feature_repo(self) -> Path:
        return self._at(FEATURE_REPO)

    @property
    def dvc_yaml(self) -> Path:
        return self._at(DVC_YAML)

    @property
    def dvc_lock(self) -> Path:
        return self._at(DVC_LOCK)


@dataclass(frozen=True)
class StateLayout:
    """The state directory: deleting it resets the whole embedded system."""

    root: Path

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow" / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.root / "mlflow" / "artifacts"

    @property
    def prediction_log(self) -> Path:
        return self.root / "predictions.db"

    @property
    def history(self) -> Path:
        return self.root / "history.jsonl"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def monitoring(self) -> Path:
        return self.root / "monitoring"

    @property
    def reference_cache(self) -> Path:
        return self.monitoring / "reference"

    @property
    def evidently(self) -> Path:
        return self.root / "evidently"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def workspace_pointer(self) -> Path:
        """The DVC workspace this state was built in, when not the checkout (`make demo` writes it)."""
        return self.root / "workspace"

    @property
    def loop_server(self) -> Path:
        """The Prefect API URL a running `titanic-mlops worker` serves on (`status` reads it)."""
        return self.run / "worker.prefect-api"

    @property
    def registry_view(self) -> Path:
        """The registry as `status` shows it, while the embedded store is unchanged (adapters.mlflow.view)."""
        return self.run / "registry-view.json"

    @property
    def experiment(self) -> Path:
        """The online experiment (embedded profile): its state, the shadow log, the guardrail."""
        return self.root / "experiment"

    @property
    def experiment_state(self) -> Path:
        return self.experiment / "state.json"

    @property
    def shadow_log(self) -> Path:
        return self.experiment / "shadow.db"

    @property
    def experiment_guardrail(self) -> Path:
        """Written by serving when it drops the challenger; read by the next evaluation."""
        return self.experiment / "guardrail.json"

    @property
    def prefect_home(self) -> Path:
        return self.root / "prefect"

    @property
    def dvc_remote(self) -> Path:
        return self.root / "dvc-remote"

    @property
    def feast(self) -> Path:
        return self.root / "feast"

    @property
    def feast_registry(self) -> Path:
        """Feast's file registry (feature_store.yaml names the same file; a test checks)."""
        return self.feast / "registry.db"

    @property
    def feast_online_store(self) -> Path:
        return self.feast / "online_store.db"

    @property
    def home(self) -> Path:
        """The root the stores last recorded their absolute locations under (`services.relocation`)."""
        return self.root / "home"


def chosen_workspace(explicit: Path | None, state: StateLayout, here: Path | None = None) -> Path:
    """The DVC workspace a command works in: `--workspace` when given; else `here` (the current
    directory) when it holds the pipeline's outputs; else the workspace the state was built in
    (after `make demo`, its private copy), so every command follows the demo's state; else `here`.
    """
    if explicit is not None:
        return explicit
    here = Path() if here is None else here
    if WorkspaceLayout(here).validated.exists() or not state.workspace_pointer.exists():
        return here
    # Relative to the state when the workspace lives inside it (the demo's), so a copy follows its own.
    built_in = state.root / state.workspace_pointer.read_text().strip()
    return built_in if WorkspaceLayout(built_in).dvc_yaml.exists() else here
