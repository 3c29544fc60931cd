"""The embedded engine's Prefect API server process, as `flows.runtime.ApiServer` starts it:
Prefect's own app under uvicorn (the arguments after the starter's pid are uvicorn's), ending when
the process that started it ends — on Linux the kernel sends it SIGTERM then (PR_SET_PDEATHSIG),
so a command that is killed leaves no server behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import runpy
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main() -> None:
    starter, uvicorn_args = int(sys.argv[1]), sys.argv[2:]
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != starter:  # the starter died before the line above took effect
        return
    sys.argv = ["uvicorn", *uvicorn_args]
    runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
