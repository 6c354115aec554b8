"""What students and TAs see after grading: the class report (and, in
cnnlab.preprocessors, the summary at the top of each student's feedback).

    report = gather(course, "02_kernels")      # data: classdata.py
    write_report(report, Path("reports/02_kernels.html"))   # page.py, plots.py
"""
from .classdata import ClassReport, gather
from .page import write_report

__all__ = ["ClassReport", "gather", "write_report"]
