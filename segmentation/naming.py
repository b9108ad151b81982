"""Readable automatic names for segments, from how far each segment's means sit from the base (z-scores).

A name is up to three adjectives and a noun, e.g. "Young digital spenders" or "Senior affluent savers".
Users can rename a segment; the new name is stored in the database, not here.
"""

from __future__ import annotations

import pandas as pd

THRESHOLD = 0.4
"""|z| a feature needs before it shows in a name."""

# (feature, sign, word): the first word of each slot whose feature passes the threshold in that direction.
_AGE = (("age", -1, "young"), ("age", +1, "senior"))
_ACTIVITY = (("recency_days", +1, "lapsed"), ("recency_days", -1, "active"), ("frequency", +1, "active"))
_WEALTH = (("income", +1, "affluent"), ("balance", +1, "affluent"), ("income", -1, "budget"))
_DIGITAL = ("app", "mobile", "online", "web", "internet", "digital")
_CHANNEL_WORDS = {"branch": "branch", "atm": "ATM", "pos": "card-paying", "phone": "phone"}
_NOUNS = (
    ("monetary", +1, "big spenders"),
    ("frequency", +1, "frequent buyers"),
    ("balance_trend", +1, "savers"),
    ("holds_loan", +1, "borrowers"),
    ("holds_investment", +1, "investors"),
    ("n_products", +1, "multi-product customers"),
    ("monetary", -1, "light spenders"),
    ("balance_trend", -1, "drawers-down"),
)


def _pick(z: pd.Series, rules: tuple[tuple[str, int, str], ...]) -> str | None:
    """The word of the rule whose feature moves most (in its direction) past the threshold."""
    best, best_z = None, THRESHOLD
    for feature, sign, word in rules:
        value = sign * float(z.get(feature, 0.0))
        if value >= best_z:
            best, best_z = word, value
    return best


def _channel(z: pd.Series) -> str | None:
    channels = z[[c for c in z.index if str(c).startswith("channel_")]]
    if channels.empty or channels.max() < THRESHOLD:
        return None
    top = str(channels.idxmax()).removeprefix("channel_")
    if any(key in top for key in _DIGITAL):
        return "digital"
    return _CHANNEL_WORDS.get(top, top.replace("_", " "))


def _category_noun(z: pd.Series) -> str | None:
    spend = z[[c for c in z.index if str(c).startswith("spend_")]]
    if spend.empty or spend.max() < 2 * THRESHOLD:
        return None
    return str(spend.idxmax()).removeprefix("spend_").replace("_", " ") + " spenders"


def name_segment(z: pd.Series) -> str:
    """Name one segment from its z-scores (feature -> z)."""
    words = [w for w in (_pick(z, _AGE), _pick(z, _ACTIVITY), _pick(z, _WEALTH), _channel(z)) if w]
    noun = _pick(z, _NOUNS) or _category_noun(z) or "customers"
    if len(words) > 3:
        words = words[:3]
    name = " ".join([*words, noun])
    return name[0].upper() + name[1:]


def name_segments(stats: pd.DataFrame) -> dict[int, str]:
    """Unique names for all segments from ``SegmentProfiles.stats`` (columns segment, feature, z).

    Segments that would share a name are told apart by their most distinctive remaining feature, or numbered.
    """
    z = stats.pivot(index="segment", columns="feature", values="z")
    names = {int(seg): name_segment(row) for seg, row in z.iterrows()}
    seen: dict[str, int] = {}
    for seg in sorted(names):
        base = names[seg]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1 or list(names.values()).count(base) > 1:
            names[seg] = f"{base} ({seg + 1})"
    return names
