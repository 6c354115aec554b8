"""How a sandboxed kernel is launched: its manager and its command line.

`SandboxedKernelManager` starts ipykernel inside bubblewrap (sandbox.py) as an
unprivileged uid, with its ZeroMQ sockets (ipc transport) and files in the
job folder. Kept apart from kernel.py, which runs notebooks with nbgrader's
Execute, so that starting a kernel needs only jupyter_client: `cnnlab
autograde` starts its first pooled kernels (pool.py) while the rest of the
grader is still being imported.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Instance, Integer, Type
from traitlets.config import Config

from .sandbox import FIRST_UID, Limits, bwrap_argv, kill_uid, prepare_job_dir


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel is.

    Its `wait_for_ready` ends by reading IOPub until no message has come for 0.2 s,
    so every run paid 0.2 s of waiting for nothing before its first cell: a fifth of a
    02 submission's worker time here (nbgrader's own runs pay it too). Nothing needs
    that flush: nbclient takes from IOPub only the messages whose parent is the cell it
    runs, so a status message of the kernel_info exchange can never land in a cell's
    outputs. What the wait does protect is kept: a kernel_info reply on the shell
    channel, then a message on IOPub, which proves the subscription is connected (a
    cell's outputs published before it is would be lost)."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass  # IOPub not connected yet: ask again
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:  # what is already queued, without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


class SandboxedKernelManager(AsyncKernelManager):
    """Launches the kernel inside bubblewrap as an unprivileged uid; interrupts
    it with a message on the control channel (bwrap starts the kernel in its own
    session, so a signal to the launcher's process group would not reach it)."""

    client_factory = Type(ReadyKernelClient, klass=AsyncKernelClient)
    job_dir = Instance(Path, allow_none=True)
    sandbox_uid = Integer(FIRST_UID)
    limits = Instance(Limits, args=())
    sandboxed = Bool(True)

    async def _async_pre_start_kernel(self, **kw):
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        kernel_cmd = without_debugger(kernel_cmd)
        if not self.sandboxed:
            return kernel_cmd, kw
        prepare_job_dir(self.job_dir, self.sandbox_uid)  # the connection file is readable in there
        kw.pop("cwd", None)
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL  # the kernel's own chatter is not feedback
        return bwrap_argv(self.job_dir, kernel_cmd, self.limits, uid=self.sandbox_uid), kw

    def stop_stuck_kernel(self) -> None:
        """SIGKILL the kernel that did not stop when interrupted."""
        if self.sandboxed:
            kill_uid(self.sandbox_uid)
        elif self.provisioner is not None and getattr(self.provisioner, "process", None) is not None:
            self.provisioner.process.kill()

    async def interrupt_kernel(self):  # AsyncKernelManager binds this name, not _async_interrupt_kernel
        if self.sandboxed and self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)
            return
        await super()._async_interrupt_kernel()


def without_debugger(kernel_cmd: list[str]) -> list[str]:
    """ipykernel's own launch command (`python -m ipykernel_launcher ...`) with cnnlab's launcher,
    which starts the same kernel without importing its debugger (cnnlab/kernel_launcher.py);
    any other kernel command as it is."""
    for i in range(len(kernel_cmd) - 1):
        if kernel_cmd[i] == "-m" and kernel_cmd[i + 1] == "ipykernel_launcher":
            return [*kernel_cmd[:i + 1], "cnnlab.kernel_launcher", *kernel_cmd[i + 2:]]
    return kernel_cmd


def kernel_arguments(job: Path, preload: tuple[str, ...] = ()) -> list[str]:
    """The kernel's command-line options, pooled or not: quiet logs, history in memory (as
    nbclient gives), the drawn-once hook (cnnlab/drawn_once.py) and preloaded modules (pool.py)."""
    lines = [f"__import__('cnnlab.drawn_once').drawn_once.install_from({str(job / 'runtime' / 'drawn_once.json')!r})"]
    if preload:  # binds no name the student could see (cnnlab/preload.py)
        lines.append(f"__import__('cnnlab.preload').preload.preload({tuple(preload)!r})")
    return ["--IPKernelApp.log_level=ERROR", "--HistoryManager.hist_file=:memory:",
            "--IPKernelApp.exec_lines=" + "; ".join(f"{line} and None" for line in lines)]


def new_kernel_manager(job: Path, uid: int | None, limits: Limits) -> SandboxedKernelManager:
    """The manager of one kernel whose sockets (ipc) and files live in `job`; sandboxed as `uid`
    (None: not sandboxed, --unsafe-no-sandbox)."""
    cfg = Config()
    cfg.KernelManager.transport = "ipc"
    cfg.KernelManager.ip = str(job / "kernel")
    km = SandboxedKernelManager(config=cfg, kernel_name="python3", job_dir=job,
                                sandbox_uid=uid or FIRST_UID, limits=limits, sandboxed=uid is not None)
    km.connection_file = str(job / "kernel.json")
    return km
