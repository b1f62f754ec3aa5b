"""Errors a user can act on: each names what is wrong."""

from __future__ import annotations


class TitanicMlopsError(Exception):
    """Base class: the CLI prints these without a traceback and exits non-zero."""


class RawDataError(TitanicMlopsError):
    """A raw file cannot be read into the schema (a missing column, a value of the wrong type)."""


class ValidationFailed(TitanicMlopsError):
    """The data contract failed; `failures` names each expectation and its column."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("data validation failed:\n  - " + "\n  - ".join(failures))


class ModelNotFound(TitanicMlopsError):
    """No registered version answers the alias asked for."""


class ModelIntegrityError(TitanicMlopsError):
    """A model artifact's hash differs from the one recorded at registration."""


class UnknownPassenger(TitanicMlopsError):
    """The online store holds no model inputs for these PassengerIds."""

    def __init__(self, passenger_ids: list[int]) -> None:
        self.passenger_ids = passenger_ids
        super().__init__(f"unknown PassengerId(s) in the online store: {passenger_ids}")


class OnlineStoreUnavailable(TitanicMlopsError):
    """The online store (Redis, SQLite) cannot be reached; lookups by id answer 503."""
