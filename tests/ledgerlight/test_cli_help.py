"""The root command's help: the version, the environment variables it reads, and setup vs train vs retrain."""

from __future__ import annotations

import importlib.metadata

import pytest

from ledgerlight.cli import ENVIRONMENT, main


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(
        f"ledgerlight {importlib.metadata.version('ledgerlight')} (Python 3."
    )


def test_help_lists_every_environment_variable_and_explains_setup_train_retrain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name, _ in ENVIRONMENT:
        assert f"  {name} " in out
    for command in ("setup", "train", "retrain", "learn", "promote"):
        assert f"\n  {command} " in out
    assert "ledgerlight COMMAND --help" in out


def test_every_variable_listed_is_read_somewhere_else_in_the_code() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [p for d in ("bankdata", "dashapp", "ledgerlight") for p in (root / d).rglob("*.py")
               if p != root / "ledgerlight" / "cli.py"]  # fmt: skip
    code = "\n".join(p.read_text() for p in [*sources, root / "gunicorn.conf.py", root / "Makefile"])
    for name, _ in ENVIRONMENT:
        assert f'"{name}"' in code or f"export {name}" in code, f"{name} is listed in --help but read nowhere"
