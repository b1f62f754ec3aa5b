"""The one store-URL parser: each setting takes its schemes, refuses the rest naming itself, and
every spelling of a PostgreSQL URL becomes the one libpq takes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from titanic_mlops.stores import factory, urls

# Nothing listens on port 1: a URL that gets past the parser fails connecting, quickly.
NOWHERE = "postgresql://postgres@127.0.0.1:1/nowhere"
Opener = Callable[[str], object]
OPENERS: dict[str, Opener] = {
    "TITANIC_MLOPS_PREDICTION_LOG_URL": factory.open_prediction_log,
    "TITANIC_MLOPS_MONITORING_URL": lambda url: factory.open_monitoring_store(url, "m"),
    "TITANIC_MLOPS_LOCK_URL": factory.open_lock,
}


# Credentials for URL parsing only, built so no literal `user:password@` sits in the source.
LOGIN = "u" + ":" + "pw"
SECRET = "s3" + "cret"  # pragma: allowlist secret


@pytest.mark.parametrize(
    ("url", "scheme", "target"),
    [
        ("sqlite:////var/state/predictions.db", "sqlite", "/var/state/predictions.db"),
        ("sqlite:///state/predictions.db", "sqlite", "state/predictions.db"),
        ("file:///var/state/monitoring", "file", "/var/state/monitoring"),
        (f"postgresql://{LOGIN}@db:5432/titanic", "postgresql", f"postgresql://{LOGIN}@db:5432/titanic"),
        (
            f"postgresql+psycopg://{LOGIN}@db:5432/titanic",
            "postgresql",
            f"postgresql://{LOGIN}@db:5432/titanic",
        ),
        (f"postgres://{LOGIN}@db:5432/titanic", "postgresql", f"postgresql://{LOGIN}@db:5432/titanic"),
    ],
)
def test_parse_gives_the_scheme_and_target(url: str, scheme: str, target: str) -> None:
    parsed = urls.parse(url, "SETTING", ("sqlite", "file", "postgresql"))
    assert (parsed.scheme, parsed.target) == (scheme, target)


def test_a_path_url_has_a_local_path_and_a_postgres_one_has_none() -> None:
    assert urls.parse("file:///var/locks", "S", ("file",)).path == Path("/var/locks")
    with pytest.raises(ValueError, match="has no local path"):
        _ = urls.parse("postgres://db/titanic", "S", ("postgresql",)).path


@pytest.mark.parametrize(
    "url",
    ["postgresql://u@h/db", "postgresql+psycopg://u@h/db", "postgres://u@h/db"],
)
def test_every_spelling_of_a_postgres_url_means_postgresql(url: str) -> None:
    assert urls.is_postgres(url)
    assert urls.connection_string(url) == "postgresql://u@h/db"


@pytest.mark.parametrize("url", ["sqlite:///p.db", "mysql://u@h/db", "postgresql+asyncpg://u@h/db"])
def test_a_connection_string_is_made_of_postgres_urls_only(url: str) -> None:
    assert not urls.is_postgres(url)
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        urls.connection_string(url)


@pytest.mark.parametrize("url", ["", "predictions.db", "sqlite://predictions.db", "redis://127.0.0.1:6379"])
def test_parse_refuses_what_no_setting_takes_naming_the_setting(url: str) -> None:
    with pytest.raises(
        ValueError, match=r"SETTING: unsupported URL .* \(expected sqlite:///path or file:///dir"
    ):
        urls.parse(url, "SETTING", ("sqlite", "file", "postgresql"))


@pytest.mark.parametrize(
    ("setting", "refused", "expected"),
    [
        ("TITANIC_MLOPS_PREDICTION_LOG_URL", "file:///var/state", "sqlite:///path or postgresql://..."),
        ("TITANIC_MLOPS_MONITORING_URL", "sqlite:///var/state/m.db", "file:///dir or postgresql://..."),
        ("TITANIC_MLOPS_LOCK_URL", "sqlite:///var/state/locks.db", "file:///dir or postgresql://..."),
        ("TITANIC_MLOPS_LOCK_URL", "redis://127.0.0.1:6379", "file:///dir or postgresql://..."),
    ],
)
def test_a_setting_refuses_another_settings_scheme_naming_itself_and_what_it_takes(
    setting: str, refused: str, expected: str
) -> None:
    with pytest.raises(ValueError, match=setting) as error:
        OPENERS[setting](refused)
    assert f"(expected {expected})" in str(error.value)


@pytest.mark.parametrize(
    ("setting", "local"),
    [
        ("TITANIC_MLOPS_PREDICTION_LOG_URL", "sqlite:///{tmp}/predictions.db"),
        ("TITANIC_MLOPS_MONITORING_URL", "file://{tmp}/monitoring"),
        ("TITANIC_MLOPS_LOCK_URL", "file://{tmp}/locks"),
    ],
)
def test_a_setting_takes_its_local_scheme_and_postgresql(setting: str, local: str, tmp_path: Path) -> None:
    opened = OPENERS[setting](local.format(tmp=tmp_path))
    close = getattr(opened, "close", None)
    if close is not None:
        close()
    for spelling in (NOWHERE, NOWHERE.replace("postgresql://", "postgres://")):
        # past the parser: a lock connects when held, a store fails here connecting, not parsing
        with contextlib.suppress(psycopg.OperationalError):
            OPENERS[setting](spelling)


@pytest.mark.parametrize("url", ["sqlite:///", "file://", "file://   "])
def test_a_url_without_a_path_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ValueError, match=r"TITANIC_MLOPS_MONITORING_URL: .* names no path"):
        urls.parse(url, "TITANIC_MLOPS_MONITORING_URL", ("sqlite", "file"))


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(ValueError) as refused:
        urls.parse(
            f"postgresql+asyncpg://user:{SECRET}@db/x", "TITANIC_MLOPS_LOCK_URL", ("file", "postgresql")
        )
    assert SECRET not in str(refused.value) and "user:***@db" in str(refused.value)
