"""Every command teaches itself: examples that parse, help for every option, and docs/cli.md generated from the
parser and equal to it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from ledgerlight.cli import build_parser
from ledgerlight.cli_examples import (
    EXAMPLES,
    REFERENCE_COLUMNS,
    REFERENCE_PYTHON,
    example_argv,
    leaf_commands,
    reference_markdown,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
COMMANDS = [command for command, _ in leaf_commands(build_parser())]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_examples_that_parse_and_help_for_every_option(command: str) -> None:
    parser = build_parser()
    sub = dict(leaf_commands(parser))[command]
    assert "examples:\n  ledgerlight " in sub.format_help(), (
        f"`ledgerlight {command} --help` shows no example"
    )
    for line in EXAMPLES.get(command, ()):
        argv = example_argv(line)
        assert " ".join(argv).startswith(command), f"an example of {command!r} runs another command: {line!r}"
        parser.parse_args(argv)  # SystemExit (and the usage error) when the example names a missing option
    silent = [a.option_strings[0] if a.option_strings else a.dest for a in sub._actions
              if not a.help and not isinstance(a, argparse._HelpAction)]  # fmt: skip
    assert not silent, f"`ledgerlight {command}`: no help text for {', '.join(silent)}"


def test_examples_name_only_commands_that_exist() -> None:
    assert set(EXAMPLES) <= set(COMMANDS)


def test_the_cli_reference_is_generated_from_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    if f"{sys.version_info.major}.{sys.version_info.minor}" != REFERENCE_PYTHON:
        pytest.skip(f"docs/cli.md is laid out by Python {REFERENCE_PYTHON}'s argparse")
    monkeypatch.setenv("COLUMNS", str(REFERENCE_COLUMNS))
    expected = reference_markdown(build_parser())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/cli.md is stale: run `python -m ledgerlight.cli_examples > docs/cli.md`"
    )
