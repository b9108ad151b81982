"""The docs' runnable examples (```python runnable blocks in docs/*.md) run on the small demo bank and stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bankdata import Bank

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python runnable\n(.*?)^```", re.S | re.M)


def runnable_docs() -> list[Path]:
    return [p for p in sorted(DOCS.glob("*.md")) if BLOCK.search(p.read_text(encoding="utf-8"))]


def test_the_docs_have_runnable_examples() -> None:
    names = {p.name for p in runnable_docs()}
    assert {"evaluation.md", "explanations.md", "continuous-learning.md"} <= names


@pytest.mark.parametrize("doc", runnable_docs(), ids=lambda p: p.name)
def test_doc_examples_run(doc: Path, small_bank: Bank, tmp_path: Path) -> None:
    namespace = {"bank": small_bank, "tmp": tmp_path}
    for n, block in enumerate(BLOCK.findall(doc.read_text(encoding="utf-8")), start=1):
        code = compile(block, f"{doc.name} (example {n})", "exec")
        exec(code, namespace)  # noqa: S102 - our own docs


def test_the_index_links_every_doc() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"({p.name})" not in index]
    assert not missing, f"docs/README.md does not link {missing}"
