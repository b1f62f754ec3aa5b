"""What every command shares: the deployment from the settings, JSON output, Prefect's home."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from titanic_mlops.config import layout
from titanic_mlops.domain.errors import TitanicMlopsError

if TYPE_CHECKING:
    # Every command imports this module, and `promote` on a version judged already (every no-op
    # `dvc repro`) needs none of these: the settings alone (pydantic-settings) cost ~0.1 s.
    from titanic_mlops.config.settings import Settings
    from titanic_mlops.services.deployment import Deployment


def deployment() -> Deployment:
    from titanic_mlops.config.settings import Settings
    from titanic_mlops.services.deployment import Deployment

    return Deployment(Settings())


def require(paths: Iterable[Path], remedy: str) -> None:
    """Refuse before anything heavy starts (Prefect, a model load) when an input is absent."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise TitanicMlopsError(f"missing input(s) {', '.join(missing)}; {remedy}")


def chosen_workspace(explicit: Path | None) -> Path:
    """`--workspace`, else the current directory or the workspace the state was built in."""
    from titanic_mlops.config.settings import Settings

    return layout.chosen_workspace(explicit, Settings().state_layout)


def print_json(payload: object) -> None:
    """Machine-readable output goes to stdout as one JSON document."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def prefect(settings: Settings) -> Callable[[], None]:
    """Prefect's home, and its temporary server started now: call the result before a flow."""
    home = Path(os.environ.setdefault("PREFECT_HOME", str(settings.state_layout.prefect_home))).expanduser()
    # Prefect creates only the last level; with every store remote nothing else makes the state dir.
    home.mkdir(parents=True, exist_ok=True)
    # A cold temporary server migrates its database first; the 20 s default is too short on 2 cores.
    timeout = os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from pipelines.prefect_server import early_server

    return early_server(home, float(timeout))
