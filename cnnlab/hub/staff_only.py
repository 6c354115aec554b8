"""What the TA's own server must not do on a hub: run students' code itself.

formgrader's autograde buttons (and `nbgrader autograde` in the TA's terminal)
run nbgrader's Execute as the TA, in her view, where the course folder and the
gradebook are writable: a student's notebook could rewrite grades. On the hub
that step refuses, in one line, and names the command that grades in the
sandbox instead. `cnnlab hub` puts this in the TA-only nbgrader config.
"""
from nbgrader.preprocessors import NbGraderPreprocessor


class UnsandboxedExecuteRefused(Exception):
    pass


class RefuseUnsandboxedExecute(NbGraderPreprocessor):
    """In place of nbgrader's Execute in the TA's Autograde on a hub."""

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment", "ASSIGNMENT")
        raise UnsandboxedExecuteRefused(
            "on this hub student code runs only in cnnlab's sandbox, never as the TA: grade with "
            f"`sudo cnnlab --course <course folder> autograde {assignment}`")
