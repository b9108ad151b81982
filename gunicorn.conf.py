"""gunicorn settings, read from the environment (gunicorn loads this file from the working directory).

Never ``preload_app``: LightGBM, shap, torch and implicit hang in forked workers once used in the master, so each
worker imports the app and loads its artifacts lazily on first use; ``post_worker_init`` starts that loading in a
background thread as soon as a worker boots, so the first user rarely waits.
"""

import os
import secrets
import sys
import threading

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Two threads: a worker runs Python one thread at a time, so more threads only stretch every request in flight
# (20 users, 50k customers, 2 CPUs: 2 threads 82 requests/s, p95 467 ms; 4 threads 66, 671 ms; 8 threads 70, 859 ms).
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# No keep-alive at the worker: each request is accepted by whichever worker is free, so a busy browser (or router
# connection) does not pin its requests to one worker (20 users at 1M customers: 82 requests/s, p95 546 ms, against
# 66 and 734 ms with keep-alive, when the heavier users happened to share a worker).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
# A worker accepts only the connections its threads can serve now; the rest wait in the listen queue for whichever
# worker is free first. gunicorn's default (1,000) lets one worker queue requests while the other idles.
worker_connections = int(
    os.environ.get("GUNICORN_WORKER_CONNECTIONS", str(threads if keepalive == 0 else 1000))
)
graceful_timeout = 30
preload_app = False
accesslog = None  # the app writes one JSON line per request (dashapp.auth.logs)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
raw_env = [
    f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '1')}",
    f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}",
]

# One session key for every worker: outside production, make one here in the master (workers inherit it);
# in production (LEDGERLIGHT_ENV=production) the app refuses to start without SECRET_KEY.
if (
    len(os.environ.get("SECRET_KEY", "")) < 32
    and os.environ.get("LEDGERLIGHT_ENV", "").lower() != "production"
):
    os.environ["SECRET_KEY"] = secrets.token_hex(32)
    print(
        "gunicorn.conf: SECRET_KEY is not set (or shorter than 32 characters); made a random one for this server "
        "run (sessions end on restart)",
        file=sys.stderr,
    )


def post_worker_init(worker):
    """Warm this worker's caches (the bank, the Overview's aggregates) in a daemon thread."""
    if os.environ.get("LEDGERLIGHT_WARMUP", "1") == "0":
        return

    def warm():
        try:
            from dashapp.services.warmup import warm_caches

            seconds = warm_caches()
            worker.log.info("worker %s warmed its caches in %.1f s", worker.pid, seconds)
        except Exception as exc:  # a cold cache is slower, not broken: pages still load on demand
            worker.log.warning("worker %s could not warm its caches: %s", worker.pid, exc)

    threading.Thread(target=warm, name="ledgerlight-warmup", daemon=True).start()
