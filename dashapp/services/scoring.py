"""Applicants scored for other systems (the JSON API): the same checks, explanation and recourse as the Applicant page.

Each applicant's values are checked against the served model's spec (``risk.check_applicant``: training ranges with a
margin, known categories) before anything is scored; every problem of every applicant is reported at once. A declined
applicant gets a recourse search (``dashapp.services.risk.recourse``) while the request's budget lasts:
:data:`MAX_RECOURSE` declined applicants a request (each search scores a few hundred candidate rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import risk
from dashapp.services import risk as risk_service

MAX_RECOURSE = 25
#: whole numbers beyond this are refused before the model sees them (they would overflow a float's formatting)
MAX_MAGNITUDE = 10**15


class InvalidApplicants(ValueError):
    """Values of some applicants a model cannot score: ``problems`` maps an applicant's index to ``{field: why}``."""

    def __init__(self, problems: Mapping[int, Mapping[str, str]]) -> None:
        self.problems = {int(i): dict(p) for i, p in problems.items()}
        super().__init__(
            "; ".join(f"applicant {i}: {f}: {why}" for i, p in self.problems.items() for f, why in p.items())
        )


@dataclass(frozen=True)
class Scored:
    """One applicant's score: PD, band, decision at the served cut-off, reasons and (declined) recourse."""

    pd: float
    band: str
    decision: str
    reasons: list[str]
    recourse: risk.Recourse | None
    recourse_omitted: bool


@dataclass(frozen=True)
class ScoredBatch:
    """The answers of a batch, in its order, with the version and cut-off that gave them."""

    model_version: str
    cutoff: float
    results: list[Scored]


def _too_large(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(k)[
            :60
        ]: f"a whole number of {len(str(abs(v)))} digits is out of range (at most {MAX_MAGNITUDE:.0e})"
        for k, v in values.items()
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_MAGNITUDE
    }


def check(applicants: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each applicant's values in model order, checked. Raises :class:`InvalidApplicants` naming every problem."""
    spec = risk_service.get_model().spec
    problems: dict[int, dict[str, str]] = {}
    checked = []
    for i, values in enumerate(applicants):
        big = _too_large(values)
        try:
            checked.append(
                risk.check_applicant(spec, {k: None if str(k)[:60] in big else v for k, v in values.items()})
            )
        except risk.InvalidApplicant as exc:
            problems[i] = {**exc.problems, **big}
        else:
            if big:  # pragma: no cover - a value set to None is always reported as required
                problems[i] = big
    if problems:
        raise InvalidApplicants(problems)
    return checked


def score_applicants(applicants: Sequence[Mapping[str, Any]]) -> ScoredBatch:
    """Score and explain every applicant with the served model at its served cut-off.

    Raises
    ------
    InvalidApplicants
        Naming each applicant (by index) and each field at fault; nothing is scored.
    NotTrained
        No risk model is served.
    """
    served = risk_service.served()
    rows = check(applicants)
    cutoff = served.threshold
    results, searched = [], 0
    for values in rows:
        e = risk_service.explain(values)
        declined = e.pd >= cutoff
        rec, omitted = None, False
        if declined and searched < MAX_RECOURSE:
            searched += 1
            try:
                rec = risk_service.recourse(values, cutoff)
            except ValueError:  # the model has no actionable feature: nothing to search
                rec = None
        elif declined:
            omitted = True
        results.append(
            Scored(e.pd, e.band, "decline" if declined else "approve", list(e.reasons), rec, omitted)
        )
    return ScoredBatch(served.version, cutoff, results)
