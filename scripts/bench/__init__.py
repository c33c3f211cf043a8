"""Modules of the benchmarks in ``scripts/`` (``bench_chat.py``, ``bench_sockets.py``): not
part of mochung, never imported by it."""
