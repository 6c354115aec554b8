"""Sandboxed kernels started ahead of need, each used for one run and then destroyed.

Starting a kernel (bubblewrap, Python, ipykernel) and importing NumPy and
pyplot, which every lesson does first, cost about 1.1 s of each submission's
time. A `KernelPool` keeps `size` kernels starting in the background, each in
a sandbox of its own (its own claimed uid and cgroup, its own job folder on a
tmpfs of its own), so a submission finds one ready. A kernel is handed out
once (`take`); when its run ends, `WarmKernel.close` kills every process of its
uid, ends its uid's claim and removes its job folder, exactly as a kernel
started for the run is ended. Nothing a student leaves behind (a file, a
thread, a forked process, a module she patched) can reach the next student,
who always gets a kernel no one has run code in.

Preloading imports modules in the kernel before anyone's code runs, without
binding a name in the student's namespace (`import numpy as np` in her first
cell finds it loaded, as a second import in her JupyterLab would).

A run that knows how many kernels it will take says so (`expect`): the pool
then starts no more than that many ahead, so the end of a run leaves no
kernel started for nobody (each costs about 0.4 s of a core: Python,
ipykernel, NumPy, pyplot). A pool told nothing keeps `size` ahead until closed.
`start_ahead` starts the first ones before the run knows (the command's first
step, while the grader itself is still importing); they count toward what the
run then expects.

Only the local runner has a pool (workers.LocalRunner); the kernels of a job
with limits other than the pool's are started for that job, as before.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from .kernel_manager import kernel_arguments, new_kernel_manager
from .sandbox import Limits, claim_uid, job_folder, kill_uid

#: imported in every pooled kernel before the notebook runs (every lesson's first cell imports them)
PRELOAD = ("numpy", "matplotlib.pyplot")


class WarmKernel:
    """A started sandboxed kernel, its uid's claim and its job folder, until `close`."""

    def __init__(self, limits: Limits, preload: tuple[str, ...]):
        self.limits = limits
        self._stack = ExitStack()  # undone in reverse: the kernel killed, its folder removed, the uid released
        try:
            self.uid = self._stack.enter_context(claim_uid())
            self.job = Path(self._stack.enter_context(job_folder(limits))) / "job"
            self._stack.callback(kill_uid, self.uid)
            self.job.mkdir()
            self.km = new_kernel_manager(self.job, self.uid, limits)
            asyncio.run(self.km.start_kernel(extra_arguments=kernel_arguments(self.job, preload)))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._stack.close()


class KernelPool:
    """Up to `size` kernels starting or ready ahead of the next take, for runs with `limits`."""

    def __init__(self, size: int = 2, limits: Limits = Limits(), preload: tuple[str, ...] = PRELOAD):
        self.size, self.limits, self.preload = max(1, size), limits, preload
        self._starter = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="cnnlab-kernel-pool")
        self._ready: deque[Future] = deque()
        self._lock = threading.Lock()
        self._closed = False
        #: takes still expected (`expect`); None: not said, so `size` are kept ahead until closed
        self._expected: int | None = None

    def _start_one(self) -> None:
        self._ready.append(self._starter.submit(WarmKernel, self.limits, self.preload))

    def _fill(self) -> None:
        """Start kernels until `size` (or the takes still expected, if fewer) are ahead."""
        ahead = self.size if self._expected is None else min(self.size, self._expected)
        while len(self._ready) < ahead:
            self._start_one()

    def expect(self, takes: int) -> None:
        """`takes` more kernels will be taken (a run's submissions, its lesson figures, its
        canary): start them ahead now, and none beyond what is expected."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the kernel pool is closed")
            self._expected = (self._expected or 0) + max(0, takes)
            self._fill()

    def forgo(self, takes: int) -> None:
        """`takes` of the expected takes will not come (a submission given another's result of the
        same lesson-only run): no kernel is started ahead for them."""
        with self._lock:
            if self._expected is not None:
                self._expected = max(0, self._expected - max(0, takes))

    def start_ahead(self, count: int) -> None:
        """Start up to `count` kernels (at most `size`) before the run knows how many it
        takes: `cnnlab autograde` calls it first thing, so they start while the grader
        imports and reads the class. They count toward the run's `expect`, not beyond it;
        a run that expects none kills them when the pool closes."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the kernel pool is closed")
            if self._expected is None:
                self._expected = 0  # from now on only what is expected is kept ahead
            while len(self._ready) < min(self.size, max(0, count)):
                self._start_one()

    def take(self) -> WarmKernel:
        """A kernel no one has used; the caller closes it when its run ends. A take beyond
        what was expected is served all the same, by a kernel started now."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the kernel pool is closed")
            if self._expected is not None:
                self._expected = max(0, self._expected - 1)
            if not self._ready:
                self._start_one()
            future = self._ready.popleft()
            self._fill()
        return future.result()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting, self._ready = list(self._ready), deque()
        for future in waiting:
            future.cancel()
        self._starter.shutdown(wait=True)
        for future in waiting:
            if not future.cancelled() and future.exception() is None:
                future.result().close()
