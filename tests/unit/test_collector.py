"""tasks.collector.collector_paused: the cycle collector is off while any task is inside, back on when the
last one leaves, and left off if it was off before (an operator's choice)."""

from __future__ import annotations

import gc
import threading

from tasks.collector import collector_paused


def test_paused_inside_and_back_on_when_the_last_task_leaves() -> None:
    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def other_task() -> None:
        with collector_paused():
            entered.set()
            leave.wait(5)

    thread = threading.Thread(target=other_task)
    with collector_paused():
        assert not gc.isenabled()
        thread.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other task is still inside
    leave.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
