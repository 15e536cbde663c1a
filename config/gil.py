"""A short GIL switch interval while a thread computes beside a thread that waits on the database.

A thread that comes back from a database round trip (psycopg2 releases the GIL while it waits) must take the GIL
back from a thread that is computing, and CPython makes it wait out the switch interval first: 5 ms by default. An
import's writer makes about ten round trips per batch while its parser works, so each batch lost up to 50 ms to
waiting; with 1 ms, a million-row import took 30.5 to 32.6 s instead of 35.2 to 35.6 s (A/B, alternating runs on
PostgreSQL, Dec 2026). 0.5 and 0.1 ms did no better, so the interval stays as long as that allows.

The interval is the process's: the first holder sets it, the last one out puts the previous value back.
"""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_S = 0.001

_lock = threading.Lock()
_holders = 0
_previous: float | None = None  # the interval to put back, when this module changed it


@contextmanager
def quick_gil_handoff() -> Iterator[None]:
    """Run the block with the GIL switch interval at most `SWITCH_INTERVAL_S`."""
    global _holders, _previous
    with _lock:
        if _holders == 0 and sys.getswitchinterval() > SWITCH_INTERVAL_S:
            _previous = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _previous is not None:
                sys.setswitchinterval(_previous)
                _previous = None
