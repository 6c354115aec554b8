"""The course for otter-grader and Gradescope, generated from source/.

    build_otter(course, "02_kernels", Path("dist/otter/02_kernels"))

writes otter's own layout (`student/`, `autograder/` with the zip Gradescope
takes). `master` turns an nbgrader source notebook into otter's format;
`assign` runs `otter assign`; `run` grades otter submissions in the sandbox.
"""
from .assign import OtterBuild, OtterFailure, build_otter, build_otter_versions, default_dist, load_build

__all__ = ["OtterBuild", "OtterFailure", "build_otter", "build_otter_versions", "default_dist", "load_build"]
