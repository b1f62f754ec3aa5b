"""Registered model versions and the aliases the loop moves between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
# The champion a promotion replaced: one alias away for a rollback, and visible in the registry.
PREVIOUS: Final = "previous"


@dataclass(frozen=True)
class ModelRef:
    """One registered version: the model's name, its version and the run that produced it."""

    name: str
    version: str
    run_id: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"
