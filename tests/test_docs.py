"""The docs' runnable examples (```python runnable blocks in docs/*.md) run on the small demo bank and stay true."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bankdata import Bank

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLE = re.compile(r"^```(python|bash) runnable\n(.*?)^```", re.S | re.M)
"""Python examples run with ``bank`` and ``tmp``; a bash example's ``ledgerlight`` lines run in ``tmp`` against a
database, checkpoints and data folder of their own, and each must exit 0."""


def runnable_docs() -> list[Path]:
    return [p for p in sorted(DOCS.glob("*.md")) if EXAMPLE.search(p.read_text(encoding="utf-8"))]


def command_lines(block: str) -> list[list[str]]:
    """The ``ledgerlight`` commands of a bash example, as argument lists (comments dropped)."""
    out = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "ledgerlight", (
                f"a runnable bash example runs only ledgerlight commands: {line!r}"
            )
            out.append(words[1:])
    return out


def test_the_docs_have_runnable_examples() -> None:
    names = {p.name for p in runnable_docs()}
    assert {"evaluation.md", "explanations.md", "continuous-learning.md"} <= names


@pytest.mark.parametrize("doc", runnable_docs(), ids=lambda p: p.name)
def test_doc_examples_run(
    doc: Path,
    small_bank: Bank,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dashapp.services import clear_caches
    from ledgerlight.cli import main

    namespace = {"bank": small_bank, "tmp": tmp_path}
    examples = EXAMPLE.findall(doc.read_text(encoding="utf-8"))
    if any(kind == "bash" for kind, _ in examples):
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'walk-through.db'}")
        monkeypatch.setenv("LEDGERLIGHT_CHECKPOINTS", str(tmp_path / "checkpoints"))
        monkeypatch.setenv("LEDGERLIGHT_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.delenv("LEDGERLIGHT_ENV", raising=False)
        clear_caches()
    for n, (kind, block) in enumerate(examples, start=1):
        if kind == "python":
            exec(compile(block, f"{doc.name} (example {n})", "exec"), namespace)  # noqa: S102 - our own docs
            continue
        for argv in command_lines(block):
            code = main(argv)
            assert code == 0, (
                f"{doc.name} (example {n}): `ledgerlight {shlex.join(argv)}` exited {code}: "
                f"{capsys.readouterr().err[-800:]}"
            )
    clear_caches()


def test_the_index_links_every_doc() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"({p.name})" not in index]
    assert not missing, f"docs/README.md does not link {missing}"
