"""nbgrader configuration of the Learn CNNs course.

Plain nbgrader commands (generate_assignment, autograde, generate_feedback,
export) read this file, and so does every `cnnlab` command, so both routes
grade a notebook the same way.
"""
import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "learn-cnns"
c.CourseDirectory.root = HERE
# `nbgrader generate_solution` writes the instructor's answers (without hidden tests) here.
c.CourseDirectory.solution_directory = "solutions"
# The gradebook: the SQLite file beside this one, unless CNNLAB_DB names another database,
# e.g. a PostgreSQL one shared by several TAs: CNNLAB_DB=postgresql://ta@db.example.edu/learn_cnns
# (`cnnlab --db URL` does the same for one command; plain nbgrader commands read CNNLAB_DB too).
c.CourseDirectory.db_url = os.environ.get("CNNLAB_DB") or "sqlite:///" + os.path.join(HERE, "gradebook.db")
# cnnlab's marker in autograded/<student>/<A>/ (fingerprint, repairs, verifier flags) is for
# TAs: generate_feedback copies every other file of that folder to the student's feedback.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".cnnlab.json"]

# Solutions (posted after the deadline) hold the instructor's answers, executed, and
# neither hidden tests nor solution markers.
c.GenerateSolution.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ClearHiddenTests",
    "cnnlab.preprocessors.StripSolutionMarkers",
    "nbgrader.preprocessors.Execute",
]

# What students see in place of a solution.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A correct answer written as plain Python loops finishes each cell in well under a
# second; 30 s leaves room for slow machines and still stops an infinite loop.
c.Execute.timeout = 30
# No per-cell timestamps in executed notebooks: solutions/ is committed and must only
# change when source/ does.
c.Execute.record_timing = False
# The kernel's own start-up warnings (TCP without encryption on loopback) are noise in every
# grading log; errors still show.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]

# Feedback never shows hidden tests: strip the hidden blocks from the test cells and
# cut tracebacks out of them down to their last line (the hint), so no hidden source
# reaches a student even when a student's error escapes the checking helper.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "cnnlab.preprocessors.RedactHiddenTests",
    # a table at the top: each exercise's score, the hint of every failed hidden check, videos to review
    "cnnlab.preprocessors.FeedbackSummary",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Late work costs what course.yml `late:` says (cnnlab/grading/late.py): nbgrader's own
# AssignLatePenalties step asks this plugin, in cnnlab autograde and in plain nbgrader autograde.
c.AssignLatePenalties.plugin_class = "cnnlab.grading.late.CoursePenalty"

# `nbgrader collect` from the exchange never follows a link: a submission that is a link
# (e.g. to source/<A>) is refused and links inside one are left out (cnnlab/exchange.py).
c.ExchangeFactory.collect = "cnnlab.exchange.SafeExchangeCollect"
