"""Model cards: what a saved model is, what it was trained on, how good it is and where it fails, from its metadata.

:func:`model_card_sections` turns an artifact's ``metadata.json`` (plus optional evidence computed elsewhere: metric
confidence intervals, a calibration table, fairness, limits) into plain tables; :func:`model_card_html` renders them
as one self-contained, escaped HTML page (no script, no external link) for download.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

EVIDENCE_KEYS = ("metrics_ci", "ci_method", "calibration", "fairness", "fairness_note", "limits")
_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2b3a;max-width:960px;margin:2rem auto;
padding:0 1rem}h1{color:#12355b}h2{color:#12355b;border-bottom:2px solid #1a9e8f;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #d5dde6;padding:.3rem .5rem;text-align:left}
th{background:#eef3f7}.note{color:#56677a;font-size:.85rem}.flag{color:#b3261e;font-weight:600}code{font-size:.85rem}"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Mapping | list | tuple):
        return (
            ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
            if isinstance(value, Mapping)
            else ", ".join(_fmt(v) for v in value)
        )
    return str(value)


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _section(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str = ""
) -> dict[str, Any]:
    return {
        "title": title,
        "columns": list(columns),
        "rows": [[_fmt(v) for v in r] for r in rows],
        "note": note,
    }


def _metrics(
    metrics: Mapping[str, Any], ci: Mapping[str, Mapping[str, float]], method: str
) -> dict[str, Any]:
    rows = []
    for name, value in _flatten(metrics):
        bounds = ci.get(name)
        interval = f"{bounds['low']:.4g} – {bounds['high']:.4g}" if bounds else ""
        rows.append([name, value, interval])
    for name, bounds in ci.items():  # intervals of metrics the metadata does not list
        if name not in dict(_flatten(metrics)):
            rows.append([name, bounds.get("estimate"), f"{bounds['low']:.4g} – {bounds['high']:.4g}"])
    note = (
        f"95 % confidence intervals: {method}."
        if ci
        else "No confidence intervals are stored for this model."
    )
    return _section("Metrics", ["metric", "value", "95 % CI"], rows, note)


def _missing_values(imputation: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    rows = [
        [col, _fmt(rec.get("missing")), rec.get("filled_with", "")] for col, rec in sorted(imputation.items())
    ]
    note = (
        "Missing cells in the training data and what the model put in their place; new rows with missing cells "
        "are filled the same way."
        if rows
        else "The training data had no missing cells in the model's inputs."
    )
    return _section("Missing values", ["column", "missing cells", "filled with"], rows, note)


def _fairness(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    sections = []
    for name, attr in report.get("attributes", {}).items():
        rows = [
            [
                g["group"],
                g["n"],
                g["approval_rate"],
                g["default_rate"],
                g["tpr"],
                g["fpr"],
                g["di_ratio"],
                g["eo_gap"],
                "below 0.8" if g.get("flag") else "",
            ]
            for g in attr.get("groups", [])
        ]
        note = (
            f"Decline when PD ≥ {report.get('threshold', 0):.3f}; reference group {attr.get('reference')}; "
            f"scores: {report.get('scores', 'unknown')}. DI = approval rate / reference's; EO gap = TPR − reference's."
        )
        sections.append(
            _section(
                f"Fairness: {name}",
                ["group", "n", "approval", "default rate", "TPR", "FPR", "DI ratio", "EO gap", "flag"],
                rows,
                note,
            )
        )
    return sections


def model_card_sections(
    metadata: Mapping[str, Any], evidence: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The card as titled tables: ``[{"title", "columns", "rows" (text cells), "note"}, ...]``.

    Parameters
    ----------
    metadata : mapping
        An artifact's ``metadata.json`` (model, version, created_at, data_fingerprint, row_count, features, params,
        metrics, libraries, files, extra).
    evidence : mapping, optional
        ``metrics_ci`` ({metric: {estimate, low, high}}), ``ci_method``, ``calibration`` (rows of bin, predicted,
        observed, n), ``fairness`` (a fairness report), ``fairness_note``, ``limits`` (list of text). Values found in
        ``metadata["extra"]`` (computed at training time) are used when ``evidence`` lacks them.

    Raises
    ------
    ValueError
        When ``metadata`` lacks the model, version or metrics keys.
    """
    missing = [k for k in ("model", "version", "metrics") if k not in metadata]
    if missing:
        raise ValueError(f"metadata lacks {', '.join(missing)}: not an artifact's metadata.json")
    extra = dict(metadata.get("extra") or {})
    ev = {k: extra[k] for k in EVIDENCE_KEYS if k in extra} | dict(evidence or {})
    details = {k: v for k, v in extra.items() if k not in (*EVIDENCE_KEYS, "imputation")}
    sections = [
        _section(
            "Model",
            ["field", "value"],
            [
                ["model", metadata["model"]],
                ["version", metadata["version"]],
                ["created (UTC)", metadata.get("created_at")],
                ["schema version", metadata.get("schema_version")],
            ],
        ),
        _section(
            "Training data",
            ["field", "value"],
            [
                ["rows", metadata.get("row_count")],
                ["fingerprint (sha256)", metadata.get("data_fingerprint")],
                *([k, v] for k, v in _flatten(details)),
            ],
        ),
        _section("Features", ["feature", "dtype"], sorted((metadata.get("features") or {}).items())),
        _missing_values(extra.get("imputation") or {}),
        _section("Parameters", ["parameter", "value"], _flatten(metadata.get("params") or {})),
        _metrics(metadata["metrics"], ev.get("metrics_ci") or {}, ev.get("ci_method", "")),
    ]
    if ev.get("calibration"):
        sections.append(
            _section(
                "Calibration",
                ["decile", "mean predicted", "observed", "loans"],
                [[r["bin"], r["predicted"], r["observed"], r["n"]] for r in ev["calibration"]],
                "Observed default rate against the mean predicted PD per decile of the predictions.",
            )
        )
    if ev.get("fairness"):
        sections.extend(_fairness(ev["fairness"]))
    elif ev.get("fairness_note"):
        sections.append(_section("Fairness", [], [], str(ev["fairness_note"])))
    if ev.get("limits"):
        sections.append(_section("Limits", ["limit"], [[text] for text in ev["limits"]]))
    sections.append(
        _section("Libraries", ["library", "version"], sorted((metadata.get("libraries") or {}).items()))
    )
    sections.append(_section("Files", ["file", "sha256"], sorted((metadata.get("files") or {}).items())))
    return sections


def model_card_html(metadata: Mapping[str, Any], evidence: Mapping[str, Any] | None = None) -> str:
    """One self-contained HTML page of :func:`model_card_sections` (every value escaped; no script)."""
    esc = html.escape
    title = f"Model card: {metadata.get('model')} {metadata.get('version')}"
    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"
    ]
    for sec in model_card_sections(metadata, evidence):
        parts.append(f"<h2>{esc(sec['title'])}</h2>")
        if sec["rows"]:
            head = "".join(f"<th>{esc(c)}</th>" for c in sec["columns"])
            body = "".join(
                "<tr>"
                + "".join(
                    f'<td class="flag">{esc(c)}</td>' if c == "below 0.8" else f"<td>{esc(c)}</td>"
                    for c in row
                )
                + "</tr>"
                for row in sec["rows"]
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if sec["note"]:
            parts.append(f'<p class="note">{esc(sec["note"])}</p>')
    parts.append(
        '<p class="note">Generated by Ledgerlight from the artifact\'s metadata.json.</p></body></html>'
    )
    return "".join(parts)
