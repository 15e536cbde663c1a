"""The short GIL switch interval of a thread working beside database writes (config.gil)."""

import sys
import threading

import pytest

from config.gil import SWITCH_INTERVAL_S, quick_gil_handoff
from workspace.services.readahead import read_ahead


@pytest.fixture
def default_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield 0.005
    sys.setswitchinterval(before)


def test_the_interval_is_short_inside_and_restored_after(default_interval):
    with quick_gil_handoff():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == pytest.approx(default_interval)


def test_the_interval_is_restored_after_an_error(default_interval):
    with pytest.raises(ValueError), quick_gil_handoff():
        raise ValueError("boom")
    assert sys.getswitchinterval() == pytest.approx(default_interval)


def test_a_shorter_interval_set_by_the_process_is_kept(default_interval):
    sys.setswitchinterval(SWITCH_INTERVAL_S / 10)
    shorter = sys.getswitchinterval()  # CPython keeps it in whole microseconds
    with quick_gil_handoff():
        assert sys.getswitchinterval() == shorter


def test_overlapping_holders_restore_only_when_the_last_leaves(default_interval):
    """Two imports in one process's threads: the first to finish must not give the other the long interval."""
    entered, release = threading.Event(), threading.Event()

    def other_holder() -> None:
        with quick_gil_handoff():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other_holder)
    with quick_gil_handoff():
        thread.start()
        assert entered.wait(5)
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    release.set()
    thread.join(5)
    assert sys.getswitchinterval() == pytest.approx(default_interval)


def test_read_ahead_hands_the_gil_over_quickly_while_it_reads(default_interval):
    seen = [sys.getswitchinterval() for _ in read_ahead(iter(range(5)))]
    assert seen == [pytest.approx(SWITCH_INTERVAL_S)] * 5
    assert sys.getswitchinterval() == pytest.approx(default_interval)


def test_read_ahead_restores_the_interval_when_its_reader_fails(default_interval):
    def broken():
        yield 1
        raise RuntimeError("unreadable")

    with pytest.raises(RuntimeError):
        list(read_ahead(broken()))
    assert sys.getswitchinterval() == pytest.approx(default_interval)
