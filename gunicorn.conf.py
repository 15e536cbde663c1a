"""gunicorn's settings for Shelfmark, read from the working directory: the image's CMD and `make bench` use them.

One thread per process, 2 x CPUs + 1 processes. A request spends its time in Python and in short database round
trips; with four threads a process, a thread coming back from the database waited for the GIL while another ran
Python (P2 at 10,000 products, 16 annotators: pair p99 212 ms with 3 x 4, 75 ms with 5 x 1; p95 83 and 64 ms).
`gthread` keeps idle keep-alive connections in a poller instead of a thread each. The sync worker, where only an idle
worker takes a connection, was slower still (December 2026, P2s at 10k in alternating runs: p50 3 ms higher, p95
28-41 ms against 20-31), since it opens a connection per request; 8 workers did no better than 5. WEB_WORKERS and
WEB_THREADS override both (a machine shared with other services).
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("WEB_THREADS", 1))
worker_class = "gthread"
