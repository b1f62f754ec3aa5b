"""What `--help` shows: every option with its default, examples, the environment variables read.

One formatter and one way to add a command, so each subcommand's page has the same shape.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, TypeAlias

Handler = Callable[[argparse.Namespace], int]
if TYPE_CHECKING:  # the class is generic only to type checkers
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction

# Read by every command through the settings (config/settings.py); docs/architecture.md has them all.
COMMON_ENV = (
    ("TITANIC_MLOPS_STATE_DIR", "where the registry, logs and stores live (default: .state)"),
    ("TITANIC_MLOPS_PROFILE", "embedded (files) or production (PostgreSQL, Redis, MLflow server)"),
)


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option's help, and epilogs (examples) printed as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """A usage mistake is one line too: what is wrong and where the help is, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def epilog(examples: Sequence[str], env: Sequence[tuple[str, str]] = ()) -> str:
    lines = ["examples:", *(f"  {example}" for example in examples), "", "environment:"]
    width = max(len(name) for name, _ in (*env, *COMMON_ENV))
    lines += [f"  {name:<{width}}  {what}" for name, what in (*env, *COMMON_ENV)]
    return "\n".join(lines)


def command(
    sub: Subparsers,
    name: str,
    handler: Handler,
    help_text: str,
    examples: Sequence[str],
    env: Sequence[tuple[str, str]] = (),
) -> argparse.ArgumentParser:
    """A subcommand whose `--help` has a description, defaults, examples and environment."""
    p = sub.add_parser(
        name,
        help=help_text.split(". ")[0],
        description=textwrap.fill(help_text, 90),
        epilog=epilog(examples, env),
        formatter_class=Formatter,
    )
    p.set_defaults(handler=handler)
    return p
