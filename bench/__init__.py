"""Reproducible benchmarks: koryu against bare Starlette baselines, side by side in one run.

`python -m bench` (or `make bench`) runs the quick mode; `--full` the larger N. Results
go to docs/benchmarks.md between the results markers, raw numbers to bench/results/.
"""
