"""An exception -> the one line the CLI prints: what is wrong, and what to run about it.

Expected failures (the project's `TitanicMlopsError`s, a file the OS refuses, settings or
params that do not parse) exit 1; anything else is a bug, exits 2 and says how to see the
traceback (`--debug`).
"""

from __future__ import annotations

import pydantic

from titanic_mlops.domain import errors

# What to run, by the kind of failure; a message that already says what to run gets no hint.
HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (
        errors.ModelNotFound,
        "train and promote one with `make demo` or `dvc repro`; `titanic-mlops status` shows the aliases",
    ),
    (
        errors.ModelIntegrityError,
        "the artifact changed after registration: retrain (`dvc repro`) or `titanic-mlops rollback`",
    ),
    (errors.UnknownPassenger, "fill the online store with `dvc repro` (the features stage)"),
    (errors.OnlineStoreUnavailable, "start the stores (`make up`) or check TITANIC_MLOPS_FEAST_CONFIG"),
    (errors.ValidationFailed, "fix the data (the report says which rows), then `dvc repro`"),
    (pydantic.ValidationError, "check the TITANIC_MLOPS_* environment variables and params.yaml"),
)
_LONGEST = 600  # characters of a message kept on the line


def one_line(exc: BaseException) -> str:
    message = _message(exc)
    hint = next((text for kind, text in HINTS if isinstance(exc, kind)), None)
    if not isinstance(exc, errors.TitanicMlopsError | OSError | pydantic.ValidationError):
        hint = "this is a bug: rerun with --debug for the traceback and report it"
        message = f"unexpected {type(exc).__name__}: {message}"
    if hint is not None and "run `" not in message and "rerun" not in message:
        message = f"{message} ({hint})"
    return message


def exit_code(exc: BaseException) -> int:
    return 1 if isinstance(exc, errors.TitanicMlopsError | OSError | pydantic.ValidationError) else 2


def _message(exc: BaseException) -> str:
    if isinstance(exc, errors.ValidationFailed):
        text = f"data validation failed ({len(exc.failures)}): " + "; ".join(exc.failures)
    elif isinstance(exc, pydantic.ValidationError):
        problems = [f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()]
        text = f"{exc.title}: " + "; ".join(problems)
    elif isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST else text[: _LONGEST - 3] + "..."
