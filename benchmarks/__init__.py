"""Benchmarks of placemap's core and app against baselines measured in the same run.

``make bench`` (``python -m benchmarks.run``) writes ``benchmarks/results/latest.json`` and
``latest.md``; ``benchmarks.load_test`` is the separate load test of the production server.
Nothing here runs in the unit test suite except a tiny smoke run of the runner.
"""
