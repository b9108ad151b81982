"""Benchmarks: each ``bench/bench_<area>.py`` writes ``bench/results/<area>.json``; ``python -m bench`` runs them all."""
