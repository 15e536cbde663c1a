"""Shelfmark and Label Studio side by side: `python -m bench.peer` (`make bench-peer`)."""
