"""gunicorn settings, read from the environment (gunicorn loads this file from the working directory).

Never ``preload_app``: LightGBM, shap, torch and implicit hang in forked workers once used in the master, so each
worker imports the app and loads its artifacts lazily on first use.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
preload_app = False
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
raw_env = [
    f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '1')}",
    f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}",
]
