"""`--help` reads well: every option says what it does and its default; examples and environment."""

from __future__ import annotations

import argparse

import pytest

from titanic_mlops.cli.main import parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_has_help_its_default_examples_and_environment(name: str) -> None:
    command = subcommands()[name]
    text = " ".join(command.format_help().split())
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{name} {action.option_strings}: no help"
        if action.default not in (None, False):
            assert f"(default: {action.default})" in text, (
                f"{name} {action.option_strings}: default not shown"
            )
    assert "examples: titanic-mlops " + name in text
    assert "environment: TITANIC_MLOPS_" in text
    assert "composition root" not in text
