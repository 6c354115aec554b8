"""The graded items of the course, as data: one home for what an item is.

- `hidden`: each hidden test cell of source/ read as a `HiddenItem` (its kind,
  cases, units and hints), without running any student code;
- `key`: the answer key the verifier scores against (gradebook points,
  hidden cases, the instructor's reference functions);
- `status`: the `cnnlab grade` vocabulary (passed, failed, error, timeout,
  missing) and the ✗ lines a graded cell shows.

`grading/`, `otter/`, `report/`, `build.py` and `preprocessors.py` import
from here; this package imports only the foundations (checks, nbtools,
plaindata).
"""


def item_of(grade_id: str) -> str:
    """`conv2d_hidden` → `conv2d`: grade ids are `<item>_<role>`."""
    return grade_id.rsplit("_", 1)[0]
