"""The suite's own plumbing: `make test` runs pytest-xdist with --dist loadgroup
so that the tests sharing an expensive fixture (a graded class, the demo, a
server) run on one worker and build it once. xdist marks grouped tests by
suffixing their node id with '@group'; pytest 9.2 stores node ids where xdist
3.8 does not look, which silently turned every group off (each graded class
was built twice). This test fails if that ever happens again."""
from __future__ import annotations

import pytest


@pytest.mark.xdist_group("grouping-self-check")
def test_xdist_groups_are_honoured(request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by `make test` (pytest -n 2 --dist loadgroup)")
    assert request.node.nodeid.endswith("@grouping-self-check")
