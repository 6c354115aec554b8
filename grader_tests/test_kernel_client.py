"""The grading kernels' client (cnnlab/grading/kernel_manager.py): ready when the kernel has
answered on both channels, without jupyter_client's 0.2 s wait for IOPub messages that never come."""
from __future__ import annotations

import asyncio
from pathlib import Path
from queue import Empty

import pytest

from cnnlab.grading.kernel_manager import ReadyKernelClient, new_kernel_manager
from cnnlab.grading.sandbox import Limits

REPLY = {"msg_type": "kernel_info_reply", "content": {"status": "ok", "protocol_version": "5.3"},
         "parent_header": {}, "header": {}}


class Channel:
    """A channel whose messages are queued up front; records the timeout of every read."""

    def __init__(self, messages):
        self.messages, self.timeouts = list(messages), []

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


class Client(ReadyKernelClient):
    """The client with channels of queued messages and a kernel that is alive or not."""

    def __init__(self, shell, iopub, alive=True):
        super().__init__()
        self.fake_shell, self.fake_iopub, self.alive, self.asked = Channel(shell), Channel(iopub), alive, 0

    shell_channel = property(lambda self: self.fake_shell)
    iopub_channel = property(lambda self: self.fake_iopub)

    def kernel_info(self):
        self.asked += 1

    async def _async_is_alive(self):
        return self.alive


def test_the_client_is_ready_once_both_channels_answered_and_never_waits_for_more():
    client = Client([REPLY], [{"msg_type": "status"}, {"msg_type": "status"}, {"msg_type": "status"}])
    asyncio.run(client.wait_for_ready(timeout=5))
    assert client.asked == 1
    first, *rest = client.fake_iopub.timeouts
    assert first > 0, "the first IOPub message proves the subscription is connected: that one is waited for"
    assert rest and all(t == 0 for t in rest), "what was queued is read, and nothing more is waited for"
    assert not client.fake_iopub.messages


def test_a_client_whose_iopub_is_not_connected_yet_asks_the_kernel_again():
    client = Client([REPLY, REPLY], [])
    client.fake_iopub.get_msg = _empty_once_then(client.fake_iopub)
    asyncio.run(client.wait_for_ready(timeout=5))
    assert client.asked == 2


def test_a_kernel_that_died_before_it_answered_is_reported():
    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(Client([], [], alive=False).wait_for_ready(timeout=5))


def test_grading_kernels_get_this_client():
    km = new_kernel_manager(Path("/nonexistent/job"), None, Limits())
    assert isinstance(km.client(), ReadyKernelClient)


def _empty_once_then(channel: Channel):
    """IOPub silent after the first reply (not subscribed yet), then a status message."""
    calls = []

    async def get_msg(timeout=None):
        calls.append(timeout)
        channel.timeouts.append(timeout)
        if len(calls) == 1:
            raise Empty
        if len(calls) == 2:
            return {"msg_type": "status"}
        raise Empty
    return get_msg
