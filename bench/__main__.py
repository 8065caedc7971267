"""``python -m bench``: the benchmark suite (bench/suite.py)."""

from bench.suite import main

main()
