"""Run a producer (the file parser) in a thread, a few items ahead of the consumer (the database writer).

Parsing holds the GIL while the database driver releases it during COPY and INSERT, so the two
overlap and an import costs about max(parse, write) instead of their sum.
"""

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

from config.gil import quick_gil_handoff

T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:
            buffer.put(error)

    # The consumer writes to the database between items: it must get the GIL back from the producer quickly.
    with quick_gil_handoff():
        thread = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
        thread.start()
        try:
            while (item := buffer.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=5)
