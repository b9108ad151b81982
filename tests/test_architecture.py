"""The import rules of docs/contracts.md, checked on the source (no import needed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"bankdata", "risk", "segmentation", "recsys", "campaigns", "dashapp", "ledgerlight"}
ALLOWED = {
    "bankdata": set(),
    "risk": {"bankdata"},
    "segmentation": {"bankdata"},
    "recsys": {"bankdata"},
    # a campaign's audience comes from what the other models publish (segments, ranked lists, risk bands); none of
    # them imports campaigns, so there is no cycle
    "campaigns": {"bankdata", "risk", "segmentation", "recsys"},
}


def imported_top_levels(path: Path) -> set[str]:
    """Top-level package names imported by one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        imported = imported_top_levels(path)
        ours = (imported & OURS) - {package} - ALLOWED[package]
        if ours or "dash" in imported or any(n.startswith("dash_") for n in imported):
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(ours | ({'dash'} & imported))}")
    assert not offenders, "forbidden imports:\n" + "\n".join(offenders)


def test_rule_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import dash\nfrom risk.metrics import ks\nfrom . import local\n", encoding="utf-8")
    assert imported_top_levels(module) == {"dash", "risk"}


def imported_modules(path: Path) -> set[str]:
    """Full dotted names of the modules one file imports from (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["dashapp", "ledgerlight"])
def test_app_and_cli_use_only_public_apis(package: str) -> None:
    libraries = {"bankdata", "risk", "segmentation", "recsys", "campaigns"}
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            top, _, rest = name.partition(".")
            if top in libraries and rest and rest != "cli":
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, "import the package, not its modules:\n" + "\n".join(offenders)
