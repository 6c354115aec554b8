"""One grading run's shared state and findings: the one channel results travel along.

A `GradingRun` belongs to one `ClassGrader` (pipeline.py) and lives as long as
its run. It holds what the run's submissions share (where notebooks run, the
lock that serialises trusted steps, the answer keys) and collects what grading
finds per notebook. nbgrader's preprocessors reach it through
`resources["cnnlab"]["run"]`, which the converter (pipeline.RunAutograde)
puts there for every notebook; nothing of it is module-level, so two runs in
one process (two courses, or one scheduler shared) never see each other's.
"""
from __future__ import annotations

import copy
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from ..drawn_once import source_hash
from .figures import drawn_once_cells, recorded_figures, reference_figures
from .plan import plan_steps
from .records import figures_key, recall, remember
from .workers import LocalRunner, encode_job


class Coordinator:
    """Serialises one run's trusted steps (sanitize, score, every gradebook
    write) across its worker threads; only sandboxed execution runs in parallel."""

    def __init__(self):
        self._lock = threading.Lock()
        self._local = threading.local()
        #: seconds the lock has been held: the coordinator's own work, which no
        #: number of workers shares (it bounds what a cluster can add, see README)
        self.busy = 0.0

    def _take(self) -> None:
        self._lock.acquire()
        self._local.holding, self._local.since = True, time.monotonic()

    def _give(self) -> None:
        self.busy += time.monotonic() - self._local.since
        self._local.holding = False
        self._lock.release()

    @contextmanager
    def trusted(self):
        self._take()
        try:
            yield
        finally:
            self._give()

    @contextmanager
    def untrusted_wait(self):
        """Let other submissions' trusted steps run while this thread waits on a sandbox."""
        holding = getattr(self._local, "holding", False)
        if holding:
            self._give()
        try:
            yield
        finally:
            if holding:
                self._take()


@dataclass
class NotebookFindings:
    """What grading found in one submitted notebook: for the summary, the log and the marker."""

    notebook: str
    flags: list[str] = field(default_factory=list)
    disagreements: dict[str, dict] = field(default_factory=dict)  # grade id -> evidence (TA only)
    kernel_died: bool = False     # a cell or probe killed the kernel (a second run salvaged the rest)
    timeouts: int = 0             # items whose probe, and cells that, ran out of time


class GradingRun:
    """The runner notebooks execute on, the coordinator lock, the answer keys and
    the findings of one grading run."""

    def __init__(self, course_root: str | Path, db_url: str, runner, verify: bool = True,
                 figures: dict | None = None, owns_runner: bool = True):
        """figures: another run's store of lesson figures to share (the canary's run shares the
        class's: both draw from the same release, so the class's run draws them once for both; a
        run that shares a store neither draws nor waits for them, see `lesson_figures`).
        owns_runner: close the runner with the run (not when it is the class's, lent to the canary,
        whose closing would kill the kernels started ahead for the class and a drawing under way)."""
        self.course_root = str(course_root)
        self.db_url = db_url
        self.runner = runner                  # workers.LocalRunner or workers.DaskRunner
        self.owns_runner = owns_runner
        self.verify = verify                  # probe every item and score with the verifier
        self.coordinator = Coordinator()
        self._keys: dict = {}
        self._findings: dict[tuple[str, str], dict[str, NotebookFindings]] = {}
        #: (assignment, notebook) -> lesson figures drawn once, with the lock their drawing holds
        self.figures: dict[tuple[str, str], dict] = figures if figures is not None else {}
        self._draws_figures = figures is None  # a store's owner draws into it; a sharer takes what is there
        self._drawing: list[threading.Thread] = []
        #: lesson-run key -> the result of the one run of a notebook of the lesson's own code (`execute`)
        self._lesson_runs: dict[str, Future] = {}
        self._releases: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo) -> "GradingRun":
        """The run itself, never a copy: nbconvert deep-copies a notebook's resources
        before the preprocessors run, and the run is what they all share."""
        return self

    def key(self, assignment: str, notebook: str):
        """The answer key of one notebook (verify.load_key), made once per run."""
        from ..items.key import load_key

        with self._lock:
            if (assignment, notebook) not in self._keys:
                self._keys[assignment, notebook] = load_key(self.course_root, assignment, notebook, self.db_url)
            return self._keys[assignment, notebook]

    @property
    def draws_figures(self) -> bool:
        """Whether this run's lesson figures are its own to draw and paste in (not the canary's,
        which takes what the class's run has drawn, or the cells to come)."""
        return self._draws_figures

    def execute(self, job: str, label: str, lesson_run: str = "") -> dict:
        """The result of running `job` on the runner. lesson_run: for a notebook that runs nothing
        but the lesson's own code (execute.runs_only_the_lesson: handed in as released, its answer
        cells untouched), the key of everything its run depends on (execute.lesson_run_key). Such
        a run happens once per run: every later submission of the same key gets a copy of its
        result, which is what her own run would give, with no kernel of her own. Nothing of any
        student's is in such a run. One that did not end well (a timeout, a dead kernel, a
        runner's error) is shared with no one: each runs her own."""
        if not lesson_run:
            return self.runner.execute(job, label)
        with self._lock:
            first = lesson_run not in self._lesson_runs
            if first:
                self._lesson_runs[lesson_run] = Future()
            shared = self._lesson_runs[lesson_run]
        if first:
            try:
                result = self.runner.execute(job, label)
            except BaseException as exc:
                shared.set_exception(exc)
                raise
            shared.set_result(result)
            return result
        try:
            result = shared.result()
        except Exception:  # noqa: BLE001 - the first one's runner failed: this one tries its own
            return self.runner.execute(job, label)
        if result.get("status") != "ok":
            return self.runner.execute(job, label)
        self.runner.forgo(1)  # the kernel expected for this submission is not needed (pool.py)
        return copy.deepcopy(result)

    def release(self, assignment: str, notebook: str):
        """The release notebook, parsed once per run."""
        with self._lock:
            if (assignment, notebook) not in self._releases:
                self._releases[assignment, notebook] = nbformat.reads(self._release_text(assignment, notebook),
                                                                      as_version=4)
            return self._releases[assignment, notebook]

    def lesson_figures(self, assignment: str, notebook: str, files: dict[str, bytes], settings: dict,
                       wait: bool = True) -> dict:
        """The figures of the release's drawn-once cells (figures.py), drawn once per run in the
        sandbox from the release notebook: {source hash: figure outputs}; {} when none or the run failed.

        A run that shares another's store (the canary's) gets, while they are not drawn yet, the
        same cells with no outputs: its kernel runs exactly as a submission's (those cells' images
        off, the figure-only ones unrun), only no reference image is put in its notebook, which
        is thrown away, and no score reads a figure. So the canary runs beside the drawing, on
        the other core, instead of after it: on a fresh install, about 0.8 s sooner to the class.
        wait=False: the same cells with no outputs while another thread draws them, so a
        submission's kernel can run meanwhile; it asks again, waiting, before the figures are
        pasted in (execute.SandboxedExecute)."""
        with self._lock:
            entry = self.figures.setdefault((assignment, notebook), {"lock": threading.Lock()})
        if not self._draws_figures and "figures" not in entry:
            return self._figures_to_come(assignment, notebook)
        if not wait and "figures" not in entry and entry["lock"].locked():
            return self._figures_to_come(assignment, notebook)
        with entry["lock"]:  # the first submission draws them; the others wait for the result
            if "figures" not in entry:
                entry["figures"] = self._draw_lesson_figures(assignment, notebook, files, settings)
            return entry["figures"]

    def draw_ahead(self, assignment: str, notebooks: list[str], files: dict[str, bytes], settings: dict) -> None:
        """Start drawing the lesson figures now, in the background: they are ready, or half done,
        when the first submission needs them, instead of every worker waiting on them then."""
        for notebook in notebooks:
            thread = threading.Thread(target=self.lesson_figures, args=(assignment, notebook, files, settings),
                                      name=f"lesson figures {notebook}", daemon=True)
            thread.start()
            self._drawing.append(thread)

    def _figures_to_come(self, assignment: str, notebook: str) -> dict:
        """{source hash: []} for each of the release's drawn-once cells: what `lesson_figures`
        gives, while the figures are being drawn, a run that shares another's store or does not wait."""
        release = self.release(assignment, notebook)
        return {source_hash(release.cells[i].source): [] for i in drawn_once_cells(release)}

    def _release_text(self, assignment: str, notebook: str) -> str:
        return (Path(self.course_root) / "release" / assignment / f"{notebook}.ipynb").read_text(encoding="utf-8")

    def _draw_lesson_figures(self, assignment: str, notebook: str, files: dict[str, bytes], settings: dict) -> dict:
        text = self._release_text(assignment, notebook)  # what the record's key is made of
        release = self.release(assignment, notebook)
        cells = drawn_once_cells(release)
        if not cells:
            return {}
        # drawn here, they are remembered for the next run of the same release in the same place
        # (a Dask worker's matplotlib and fonts are its own: drawn there, they are drawn each run)
        key = figures_key(text, files, settings) if isinstance(self.runner, LocalRunner) else None
        kept = recall("lesson-figures", key) if key else None
        if recorded_figures(kept):
            return {h: [nbformat.from_dict(o) for o in outputs] for h, outputs in kept.items()}
        job = encode_job(nbformat.writes(release), files, {**settings, "drawn_once": []},
                         [asdict(s) for s in plan_steps(release, {})])
        try:
            if settings.get("sandbox", True):
                self.runner.expect(1)  # a kernel of the pool's, no more (pool.py)
            result = self.runner.execute(job, f"lesson figures-{notebook}")
            figures = reference_figures(nbformat.reads(result["notebook"], as_version=4), cells)
        except Exception:  # noqa: BLE001 - no reference: every submission draws its own, as before
            return {}
        if key and figures:  # a drawing that failed is tried again next run
            remember("lesson-figures", key, figures)
        return figures

    def findings(self, student: str, assignment: str, notebook: str) -> NotebookFindings:
        with self._lock:
            per_nb = self._findings.setdefault((student, assignment), {})
            return per_nb.setdefault(notebook, NotebookFindings(notebook))

    def take_findings(self, student: str, assignment: str) -> list[NotebookFindings]:
        """The findings of one submission, handed over once (a regrade starts afresh)."""
        with self._lock:
            return list(self._findings.pop((student, assignment), {}).values())

    def close(self) -> None:
        for thread in self._drawing:  # a drawing still under way ends (or times out) before its runner does
            thread.join()
        if self.owns_runner:
            self.runner.close()


def run_of(resources: dict) -> GradingRun | None:
    """The grading run a preprocessor is part of (None under plain nbgrader)."""
    state = resources.get("cnnlab") if isinstance(resources, dict) else None
    return state.get("run") if isinstance(state, dict) else None
