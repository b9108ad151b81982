"""Adverse-action notices: the letter a declined applicant gets, as printable HTML and as PDF (fpdf2, no network).

The notice names the bank (``LEDGERLIGHT_BANK_NAME``, else a placeholder the bank edits), the dates, the applicant
reference, the decision, up to four principal reasons in plain words (US Regulation B practice), what would change
the decision (the recourse recorded), the model version, and a clearly marked template of the ECOA / Regulation B
statement of rights that the bank's compliance team adapts before any notice is sent.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bankdata import DecisionRecord, format_value, get_settings
from risk.decisions import MAX_REASONS
from risk.reasons import plain_name

BANK_PLACEHOLDER = "[Bank name: set LEDGERLIGHT_BANK_NAME]"
TEMPLATE_MARK = "TEMPLATE - to be adapted by the bank's compliance team before use"
ECOA_TEMPLATE = (
    "[Template] The Federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit "
    "applicants on the basis of race, color, religion, national origin, sex, marital status, or age (provided the "
    "applicant has the capacity to enter into a binding contract); because all or part of the applicant's income "
    "derives from any public assistance program; or because the applicant has in good faith exercised any right "
    "under the Consumer Credit Protection Act. The Federal agency that administers compliance with this law "
    "concerning this creditor is [name and address of the agency]. You have the right to a statement of the "
    "specific reasons for this decision; [how and where to ask, and within which period]."
)
FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class Notice:
    """The notice's content, once, for both renderings."""

    bank: str
    decided_on: str
    issued_on: str
    reference: str
    decision: str
    reasons: list[str]
    changes: list[str]
    changes_note: str
    model: str


def _change(change: dict) -> str:
    feature, before, after = str(change["feature"]), float(change["before"]), float(change["after"])
    verb = "Lower" if after < before else "Raise"
    name = plain_name(feature)
    name = name[:1].lower() + name[1:]  # mid-sentence: "Lower the debt-to-income ratio"
    return f"{verb} the {name} from {format_value(feature, before)} to {format_value(feature, after)}"


def notice_content(
    record: DecisionRecord,
    *,
    bank_name: str | None = None,
    today: date | None = None,
    ids: tuple[object, object] | None = None,
) -> Notice:
    """What the notice of a declined record says.

    Raises
    ------
    ValueError
        The record is an approval (no adverse action, no notice).
    """
    if not record.declined:
        raise ValueError(f"decision {record.id} approved the applicant: there is no adverse-action notice")
    rec = record.recourse
    if rec is None:
        changes, note = [], "No search for changes that would lead to approval was made for this decision."
    elif rec.get("feasible") and rec.get("changes"):
        changes, note = (
            [_change(c) for c in rec["changes"]],
            "With these changes the application would be approved:",
        )
    else:
        changes, note = (
            [],
            (
                "No change to the loan amount, term, debt-to-income ratio or balance that would lead to "
                "approval was found."
            ),
        )
    customer, loan_id = ids or (
        record.customer_id,
        record.loan_id,
    )  # the bank's own ids when it writes them as text
    loan = f", loan {loan_id}" if loan_id is not None else ""
    return Notice(
        bank=(bank_name or get_settings().bank_name or BANK_PLACEHOLDER).strip(),
        decided_on=record.recorded_at.strftime("%Y-%m-%d"),
        issued_on=(today or datetime.now(UTC).date()).isoformat(),
        reference=f"customer {customer}{loan}, decision record {record.id}",
        decision="Declined",
        reasons=[str(r.get("text", "")) for r in record.reasons[:MAX_REASONS]],
        changes=changes,
        changes_note=note,
        model=f"{record.model} version {record.model_version} (files sha256 {record.model_sha256[:16]})",
    )


_STYLE = """body{font-family:Georgia,'Times New Roman',serif;max-width:42rem;margin:2rem auto;color:#111;line-height:1.45}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.05rem;margin:1.4rem 0 .4rem}.muted{color:#555;font-size:.9rem}
table{border-collapse:collapse}td{padding:.1rem 1rem .1rem 0;vertical-align:top}
.template{border:2px dashed #b00;padding:.6rem .8rem;margin-top:1.4rem}.template strong{color:#b00}
@media print{body{margin:0 auto}.template{break-inside:avoid}}"""


def notice_html(
    record: DecisionRecord,
    *,
    bank_name: str | None = None,
    today: date | None = None,
    ids: tuple[object, object] | None = None,
) -> str:
    """The notice as one self-contained, printable HTML page (every value escaped)."""
    n = notice_content(record, bank_name=bank_name, today=today, ids=ids)
    e = html.escape
    reasons = "".join(f"<li>{e(r)}</li>" for r in n.reasons) or "<li>No single factor stood out.</li>"
    changes = "".join(f"<li>{e(c)}</li>" for c in n.changes)
    rows = (
        ("Date of decision", n.decided_on),
        ("Date of this notice", n.issued_on),
        ("Applicant", n.reference),
        ("Decision", n.decision),
    )
    table = "".join(f"<tr><td>{e(k)}</td><td><strong>{e(v)}</strong></td></tr>" for k, v in rows)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(n.bank)}: notice of action taken'
        f"</title><style>{_STYLE}</style></head><body>\n"
        f'<header><h1>{e(n.bank)}</h1><p class="muted">Notice of action taken on your credit application</p>'
        f"</header>\n<table>{table}</table>\n"
        "<h2>Principal reasons for our decision</h2>\n"
        f'<ol id="reasons">{reasons}</ol>\n'
        "<h2>What would change the decision</h2>\n"
        f"<p>{e(n.changes_note)}</p>" + (f'<ul id="changes">{changes}</ul>' if changes else "") + "\n"
        f'<p class="muted">Decided with the credit model {e(n.model)}.</p>\n'
        f'<section class="template"><p><strong>{e(TEMPLATE_MARK)}</strong></p><p>{e(ECOA_TEMPLATE)}</p></section>\n'
        "</body></html>\n"
    )


_LATIN = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2265": ">=",
        "\u2264": "<=",
        "\u2192": "->",
    }
)


def _latin1(text: str) -> str:
    """The PDF's built-in fonts are Latin-1: common punctuation spelled out, anything else as '?'."""
    return text.translate(_LATIN).encode("latin-1", "replace").decode("latin-1")


def notice_pdf(
    record: DecisionRecord,
    *,
    bank_name: str | None = None,
    today: date | None = None,
    ids: tuple[object, object] | None = None,
) -> bytes:
    """The notice as a one-page A4 PDF (built-in fonts only: nothing is fetched)."""
    # fpdf2 takes 0.4 s to import: only when a PDF is asked for, not at every start of the app or the CLI
    from fpdf import FPDF

    n = notice_content(record, bank_name=bank_name, today=today, ids=ids)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(_latin1(f"{n.bank}: notice of action taken"))
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float = 11, style: str = "", gap: float = 1.5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(n.bank, 16, "B", 0.5)
    line("Notice of action taken on your credit application", 10, "I", 4)
    for key, value in (
        ("Date of decision", n.decided_on),
        ("Date of this notice", n.issued_on),
        ("Applicant", n.reference),
        ("Decision", n.decision),
    ):
        line(f"{key}: {value}", 11, "", 0.5)
    pdf.ln(3)
    line("Principal reasons for our decision", 12, "B")
    for i, reason in enumerate(n.reasons or ["No single factor stood out."], start=1):
        line(f"{i}. {reason}", 11, "", 0.5)
    pdf.ln(3)
    line("What would change the decision", 12, "B")
    line(n.changes_note, 11, "", 0.5)
    for change in n.changes:
        line(f"- {change}", 11, "", 0.5)
    pdf.ln(3)
    line(f"Decided with the credit model {n.model}.", 9, "I", 4)
    pdf.set_draw_color(176, 0, 0)
    top = pdf.get_y()
    line(TEMPLATE_MARK, 10, "B", 1)
    line(ECOA_TEMPLATE, 9, "", 1)
    pdf.rect(pdf.l_margin - 2, top - 2, width + 4, pdf.get_y() - top + 2)
    return bytes(pdf.output())


def render_notice(
    record: DecisionRecord,
    fmt: str,
    *,
    bank_name: str | None = None,
    ids: tuple[object, object] | None = None,
) -> tuple[bytes, str, str]:
    """``(content, file name, media type)`` of the notice in ``fmt`` (``html`` or ``pdf``); ``ids`` are the
    customer's and the loan's ids as the bank writes them, when they differ from the record's internal ones."""
    if fmt not in FORMATS:
        raise ValueError(f"the notice format must be html or pdf, got {str(fmt)[:20]!r}")
    name = f"adverse-action-notice-{record.id}.{fmt}"
    if fmt == "pdf":
        return notice_pdf(record, bank_name=bank_name, ids=ids), name, "application/pdf"
    return notice_html(record, bank_name=bank_name, ids=ids).encode("utf-8"), name, "text/html"
