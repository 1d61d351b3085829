"""Benchmarks of sampling strategies: trials, yardstick, statistics, report.

Every strategy is judged by the same yardstick, an Im2spec of one fixed
architecture and training schedule trained on the points the strategy
measured; strategies differ only in which points they choose. Trials run as
tasks on dask.distributed.
"""
