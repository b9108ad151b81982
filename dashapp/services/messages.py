"""Messages fit to show a user: the server's folders and file paths taken out of an error's text."""

from __future__ import annotations

import re
from pathlib import Path

from bankdata import get_settings

APP_FOLDER = Path(__file__).resolve().parents[2]

#: an absolute file path under a usual top folder (the app's own pages, /risk or /customer, are not file paths)
_ABSOLUTE_PATH = re.compile(
    r"(?<![\w.])/(?:tmp|home|root|var|usr|etc|opt|srv|mnt|media|work|app|data|proc|run|private|Users)(?:/[\w.@+-]+)*/?"
)


def public_message(message: object) -> str:
    """``message`` as text with the artifact store, the data folder and any other absolute path replaced by words
    (``no such version in the model store``), so no answer tells a client how the server is laid out."""
    text = str(message)
    settings = get_settings()
    for folder, label in (
        (settings.checkpoints_dir, "the model store"),
        (settings.data_dir, "the data folder"),
        (APP_FOLDER, "the app folder"),
        (Path.home(), "the server"),
    ):
        for spelling in {str(folder), str(Path(folder).resolve())}:
            if len(spelling) > 1:
                text = text.replace(spelling, label)
    return _ABSOLUTE_PATH.sub("(a server path)", text)
