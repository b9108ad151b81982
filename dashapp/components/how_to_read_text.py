"""What each page's "How to read this page" panel says: a few plain-language bullets per page, in one place.

The panel (:class:`dashapp.components.how_to_read.HowToRead`) and the Help page both read :data:`PAGES`; ``doc``
names the full document on the Help page (``/help?doc=<doc>``) one click away.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageGuide:
    """One page's guide: its name and path, 3 to 6 bullets, and the slug of its full document."""

    name: str
    path: str
    bullets: tuple[str, ...]
    doc: str


PAGES: dict[str, PageGuide] = {
    "overview": PageGuide(
        "Overview",
        "/",
        (
            "The tiles at the top count the whole bank: customers, balances, loans and products held.",
            "Each chart is an aggregate over every customer; no single person can be picked out.",
            "Hover a bar or a point to read its exact value; click a legend entry to hide or show it.",
            "Use the pages in the menu to go from this bank-wide view to risk, segments or offers.",
        ),
        "app",
    ),
    "risk": PageGuide(
        "Risk portfolio",
        "/risk",
        (
            "PD is the model's estimated probability that a loan defaults; bands A (lowest) to E group it.",
            "AUC and the ROC curve say how well the model ranks good loans above bad ones (0.5 is a coin toss).",
            "The calibration chart compares predicted PD with what happened: points on the diagonal are right.",
            "Move the cut-off to see how many loans would be declined and how many defaults that avoids.",
            "The SHAP chart lists what pushes PD up or down across the portfolio, largest first.",
        ),
        "risk",
    ),
    "applicant": PageGuide(
        "Applicant",
        "/risk/applicant",
        (
            "Pick a borrower in the grid; the panel shows their PD, band and the decision at the cut-off.",
            "Reason codes are the features that raised this borrower's PD the most, in plain words.",
            "The waterfall starts from the average PD and adds each feature's push to reach this borrower's.",
            "Change values in the what-if panel to see what would change the decision (the recourse).",
            "Recording a decision keeps it, with its reasons, for adverse-action notices and audit.",
        ),
        "explanations",
    ),
    "monitoring": PageGuide(
        "Monitoring",
        "/monitoring",
        (
            "The back-test compares the model's PD with the defaults that really happened, month by month.",
            "Stability (PSI) shows how far new applicants differ from the training data; the larger, the bigger the shift.",
            "The what-if tab generates a drifted month to show what a shift would do before it happens.",
            "Fairness compares approval and error rates between groups at the cut-off; large gaps need review.",
        ),
        "governance",
    ),
    "models": PageGuide(
        "Models",
        "/models",
        (
            "Each row is a saved model version; only the one marked served answers the app and the API.",
            "Training saves a candidate; it is served only after an admin promotes it.",
            "The model card says what the version was trained on, how well it did and what it is meant for.",
            "Compare a candidate with the champion before promoting it; the champion rule says when it may win.",
        ),
        "model-risk",
    ),
    "segments": PageGuide(
        "Segments",
        "/segments",
        (
            "Customers are grouped by behaviour (spending, frequency, recency, balances) into named segments.",
            "Each card gives a segment's size and the typical (median) customer in it.",
            "The scatter places similar customers close together; colours are segments.",
            "Filter by age, income or region to see how the segments change; export the customers shown.",
            "Rename a segment to the name your team uses; everyone sees the new name.",
        ),
        "segmentation",
    ),
    "recommendations": PageGuide(
        "Recommendations",
        "/recommendations",
        (
            "The page opens on a suggested customer and product; pick any other customer or product to change them.",
            "Each list is one model's next products for the customer, the best model (on held-out data) first.",
            "Score ranks products within a list; 'Why' says what made the model suggest the product.",
            "The campaign list ranks who is most likely to take the chosen product; holders are left out.",
            "Credit products are not offered to customers the credit policy blocks.",
        ),
        "recsys",
    ),
    "campaigns": PageGuide(
        "Campaigns",
        "/campaigns",
        (
            "A campaign contacts part of its audience and keeps a random control group that is not contacted.",
            "Uplift is the take-up of contacted customers minus that of the control group: what the campaign added.",
            "The Qini curve shows how much uplift targeting the best-ranked customers first would gain.",
            "Economics turn uplift into money after the cost of each contact.",
        ),
        "campaigns",
    ),
    "customer": PageGuide(
        "Customer 360",
        "/customer",
        (
            "Open a suggested customer, type an id, or click a customer id in any grid.",
            "The tiles give the customer's profile; the chart shows money in and out per month.",
            "Risk users see the PD, band, reasons and what would change the decision; marketing users do not.",
            "The segment card shows the customer's segment; products list what they hold and what to offer next.",
        ),
        "governance",
    ),
    "admin": PageGuide(
        "Admin",
        "/admin",
        (
            "The users table lists who may sign in and with which role (risk, marketing or admin).",
            "A role decides the pages a user can open and whether they see named people's scores.",
            "The audit log records what the server showed to whom, and every change an admin made.",
        ),
        "deploy",
    ),
}
