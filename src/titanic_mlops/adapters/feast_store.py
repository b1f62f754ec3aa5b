"""The Feast adapter: the only module that imports Feast."""

from __future__ import annotations

import contextlib
import sqlite3
import string
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from titanic_mlops import atomic
from titanic_mlops.domain import features
from titanic_mlops.domain.errors import OnlineStoreUnavailable, TitanicMlopsError, UnknownPassenger

if TYPE_CHECKING:
    from feast import FeatureStore

FEATURE_SERVICE = "titanic_model_v1"
PASSENGER_VIEW = "passenger_features"
TICKET_VIEW = "ticket_features"
CONFIG_FILE = "feature_store.yaml"


def _unchecked(target: Any = None, **_options: Any) -> Any:
    """typeguard's `@typechecked` as `python -O` makes it: the identity, bare or with options."""
    return _unchecked if target is None else target


def import_feast() -> None:
    """Import Feast once per process, without typeguard instrumenting its classes.

    Feast decorates its views and data sources with typeguard's `@typechecked`, which reads,
    re-parses and recompiles every method's source when Feast is imported: `import feast` took
    3.4-4.1 s instead of 1.0 s here, paid again by every process that opens the store (the
    `features` and `train` stages, each retraining, the API's start). Those runtime checks guard
    the arguments this adapter passes, which mypy already checks. typeguard's own off switch is
    `python -O`, which would also strip every assert, so the decorator is made the identity (what
    -O makes it) before Feast's first import. Nothing else in the environment imports typeguard.
    Every function here that imports from Feast calls this first; once Feast is loaded it is a
    dictionary lookup.
    """
    if "feast" in sys.modules:
        return
    import typeguard

    typeguard.typechecked = _unchecked
    import feast  # noqa: F401  (loaded now, under the identity decorator)


def load_repo_config(
    repo: Path, state_dir: Path, config_file: str = CONFIG_FILE, variables: Mapping[str, str] | None = None
) -> Any:
    """feature_store.yaml with ${VARS} filled from `variables` and the state directory."""
    import_feast()
    from feast.repo_config import RepoConfig

    text = (repo / config_file).read_text()
    mapping = {**(variables or {}), "TITANIC_MLOPS_STATE_DIR": str(state_dir.resolve())}
    filled = string.Template(text).safe_substitute(mapping)
    unset = [line.strip() for line in filled.splitlines() if "${" in line.split("#")[0]]
    if unset:
        raise TitanicMlopsError(f"{repo / config_file}: unset environment variable in {unset[0]!r}")
    raw = yaml.safe_load(filled)
    for key in ("registry", "online_store"):
        value = raw.get(key)
        path = value.get("path") if isinstance(value, dict) else value
        if isinstance(path, str) and "://" not in path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(**raw)
    config.repo_path = repo.resolve()
    return config


def open_store(
    repo: Path, state_dir: Path, config_file: str = CONFIG_FILE, variables: Mapping[str, str] | None = None
) -> FeatureStore:
    import_feast()
    from feast import FeatureStore

    config = load_repo_config(repo, state_dir, config_file, variables)
    return FeatureStore(repo_path=str(repo.resolve()), config=config)


def apply_and_materialize(store: FeatureStore, event_time: datetime) -> None:
    """`feast apply` on the repo, then load every row stamped `event_time` into the online store."""
    import_feast()
    from feast.repo_operations import apply_total

    repo = str(Path(store.repo_path).resolve())
    sys.path.insert(0, repo)  # feast imports the definition files by module name, as its CLI does
    try:
        apply_total(store.config, Path(repo), skip_source_validation=False)
    finally:
        sys.path.remove(repo)
    store.materialize(
        start_date=event_time - timedelta(days=1),
        end_date=event_time + timedelta(days=1),
        feature_views=[PASSENGER_VIEW, TICKET_VIEW],
    )


def rebase_registry(registry: Path, old: Path, new: Path) -> int:
    """Point the file registry's online-store tables under `old` at the same files under `new`.

    Feast records each SQLite table's absolute database path in the registry's infra, and
    `feast apply` drops the tables it no longer plans in whatever file that record names: run in a
    copied state, it would empty the original's online store. Edited as the protobuf itself,
    because loading the infra through Feast opens every recorded file. Returns the tables moved.
    """
    import_feast()
    from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto

    if not registry.exists():
        return 0
    proto = RegistryProto()
    proto.ParseFromString(registry.read_bytes())
    moved = 0
    for item in proto.infra.infra_objects:
        if not item.HasField("sqlite_table"):
            continue  # another online store's infra names no file
        recorded = Path(item.sqlite_table.path)
        if recorded.is_relative_to(old):
            item.sqlite_table.path = str(new / recorded.relative_to(old))
            moved += 1
    if moved:
        atomic.write_with(registry, lambda staged: staged.write_bytes(proto.SerializeToString()))
    return moved


def historical_features(store: FeatureStore, entities: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time join of the feature service onto `entities` (passenger_id, event_timestamp)."""
    service = store.get_feature_service(FEATURE_SERVICE)
    frame = store.get_historical_features(entity_df=entities, features=service).to_df()
    return frame.sort_values(features.ENTITY, kind="stable").reset_index(drop=True)


def online_passenger_features(store: FeatureStore, passenger_ids: Sequence[int]) -> pd.DataFrame:
    """The model vector by PassengerId; rows for unknown ids come back with every feature empty."""
    service = store.get_feature_service(FEATURE_SERVICE)
    rows = [{features.ENTITY: int(pid)} for pid in passenger_ids]
    with _online_store_errors(store):
        return pd.DataFrame(store.get_online_features(features=service, entity_rows=rows).to_dict())


def online_ticket_group_sizes(store: FeatureStore, tickets: Sequence[str]) -> pd.Series:
    """Group size per ticket, NaN where the store has never seen the ticket."""
    unique = sorted(set(tickets))
    if not unique:
        return pd.Series([], dtype="float64")
    with _online_store_errors(store):
        response = store.get_online_features(
            features=[f"{TICKET_VIEW}:ticket_group_size"],
            entity_rows=[{features.TICKET: t} for t in unique],
        ).to_dict()
    sizes = dict(zip(response[features.TICKET], response["ticket_group_size"], strict=True))
    return pd.Series([sizes.get(t) for t in tickets], dtype="float64")


def require_known(frame: pd.DataFrame, passenger_ids: Sequence[int]) -> pd.DataFrame:
    """Raise naming the ids the online store does not hold."""
    unknown = [pid for pid, sex in zip(passenger_ids, frame["sex"], strict=True) if sex is None]
    if unknown:
        raise UnknownPassenger(unknown)
    return frame


@contextlib.contextmanager
def _online_store_errors(store: FeatureStore) -> Iterator[None]:
    from redis.exceptions import RedisError

    try:
        yield
    except (RedisError, OSError, sqlite3.OperationalError) as exc:
        kind = getattr(store.config.online_store, "type", "online")
        raise OnlineStoreUnavailable(f"the {kind} online store is unavailable: {exc}") from exc
