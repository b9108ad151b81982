"""Score and explain applicants with a trained risk artifact (LightGBM text model + JSON; nothing unpickled)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from bankdata import Artifact, ArtifactError, Bank
from risk.bands import risk_band
from risk.bankbook import latest_loans
from risk.calibration import ScoreCalibrator
from risk.explain import contributions, to_probability
from risk.features import FeatureSpec
from risk.reasons import reason_codes

MODEL_FILE = "model.txt"
SPEC_FILE = "spec.json"
CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Explanation:
    """One applicant's score and why.

    Attributes
    ----------
    pd : float
        Calibrated probability of default.
    band : str
        Risk band of ``pd``.
    base_pd : float
        Calibrated probability of the average applicant (the waterfall's start).
    features : list of str
    values : list of str
        The applicant's feature values, as text.
    shap_logit, shap_pd : ndarray
        Each feature's push on the log-odds and on the probability of default.
    reasons : list of str
        The factors that raised the risk, strongest first, in plain words.
    """

    pd: float
    band: str
    base_pd: float
    base_logit: float
    features: list[str]
    values: list[str]
    shap_logit: np.ndarray
    shap_pd: np.ndarray
    reasons: list[str]


class RiskModel:
    """The champion model ready to score: feature spec, LightGBM booster and calibrator.

    Parameters
    ----------
    spec : FeatureSpec
    booster : lightgbm.Booster
    calibrator : ScoreCalibrator
    """

    def __init__(self, spec: FeatureSpec, booster: lgb.Booster, calibrator: ScoreCalibrator) -> None:
        self.spec = spec
        self.booster = booster
        self.calibrator = calibrator
        if booster.num_feature() != len(spec.features):
            raise ArtifactError(
                f"risk model expects {booster.num_feature()} features but the spec lists {len(spec.features)}"
            )

    @classmethod
    def load(cls, source: Artifact | str | Path) -> RiskModel:
        """Rebuild from a verified artifact (the store has checked every file's sha256) or from the folder that
        :meth:`save` wrote (read as it is: no checksums).
        """
        if isinstance(source, Artifact):
            where = f"{source.model}/{source.version}"
            file, read_json = source.file, source.load_json
        else:
            folder = Path(source)
            where = str(folder)
            if not folder.is_dir():
                raise ArtifactError(f"{where}: no risk model folder there")

            def file(name: str) -> Path:
                if not (folder / name).is_file():
                    raise ArtifactError(f"{where}: no file {name!r} in the risk model folder")
                return folder / name

            def read_json(name: str) -> Any:
                return json.loads(file(name).read_text(encoding="utf-8"))

        try:
            booster = lgb.Booster(model_file=str(file(MODEL_FILE)))
            spec = FeatureSpec.from_dict(read_json(SPEC_FILE))
            calibrator = ScoreCalibrator.from_dict(read_json(CALIBRATION_FILE))
        except (KeyError, ValueError, lgb.basic.LightGBMError) as exc:
            raise ArtifactError(f"{where}: not a valid risk model: {exc}") from None
        return cls(spec, booster, calibrator)

    def save(self, folder: str | Path) -> Path:
        """Write the three files into ``folder`` (created if needed) and return it; :meth:`load` reads it back."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        (folder / SPEC_FILE).write_text(json.dumps(self.spec.to_dict(), indent=2), encoding="utf-8")
        (folder / CALIBRATION_FILE).write_text(json.dumps(self.calibrator.to_dict()), encoding="utf-8")
        return folder

    def encode(self, frame: pd.DataFrame, source: str = "applicants") -> np.ndarray:
        """Encoded features of ``frame`` (see :meth:`FeatureSpec.encode`)."""
        return self.spec.encode(frame, source=source)

    def predict_encoded(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of default for encoded rows."""
        return self.calibrator.predict(np.asarray(self.booster.predict(x, num_threads=1)))

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities of default for the rows of ``frame``."""
        return self.predict_encoded(self.encode(frame))

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``pd`` and ``band`` for each row (same index as ``frame``)."""
        p = self.predict_pd(frame)
        return pd.DataFrame({"pd": p, "band": risk_band(p)}, index=frame.index)

    def base_pd(self, base_logit: float) -> float:
        """Calibrated probability at the model's expected log-odds."""
        return float(self.calibrator.predict(np.array([1.0 / (1.0 + np.exp(-base_logit))]))[0])

    def _shown(self, column: str, code: float) -> str:
        if column in self.spec.categorical:
            return self.spec.decode_category(column, code)
        return "missing" if np.isnan(code) else f"{code:g}"

    def explain(self, row: pd.DataFrame | dict[str, Any], *, top: int = 4) -> Explanation:
        """Score one applicant and explain the score (SHAP in log-odds and probability, reason codes)."""
        if isinstance(row, dict):
            x = self.spec.encode_row(row, source="applicant")
        elif len(row) != 1:
            raise ValueError(f"explain takes one applicant, got {len(row)} rows")
        else:
            x = self.encode(row, source="applicant")
        contrib = contributions(self.booster, x)
        p = float(self.predict_encoded(x)[0])
        base_pd = self.base_pd(contrib.base)
        values = [self._shown(c, x[0, j]) for j, c in enumerate(self.spec.features)]
        return Explanation(
            pd=p,
            band=str(risk_band(p)),
            base_pd=base_pd,
            base_logit=contrib.base,
            features=self.spec.features,
            values=values,
            shap_logit=contrib.values[0],
            shap_pd=to_probability(contrib.values, base_pd, np.array([p]))[0],
            reasons=reason_codes(self.spec, x[0], contrib.values[0], top=top),
        )


def score_customers(bank: Bank, artifact: Artifact) -> pd.DataFrame:
    """customer_id, pd, band of each customer's most recent loan (customers without a loan are left out)."""
    loans = latest_loans(bank)
    scored = RiskModel.load(artifact).score(loans)
    return pd.DataFrame(
        {
            "customer_id": loans["customer_id"].to_numpy(),
            "pd": scored["pd"].to_numpy(),
            "band": scored["band"],
        }
    )
