"""Shelfmark's performance benchmarks (SPEC S10): `make bench` runs `python -m bench.run`; see bench/README.md."""
