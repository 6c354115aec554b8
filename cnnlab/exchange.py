"""`nbgrader collect` from the exchange without following links.

nbgrader's ExchangeCollect copies `<exchange>/<course>/inbound/<student>+<A>+<time>`
with shutil.copytree, which follows symbolic links: a student who makes that
entry a link to the course's source/<A> (or puts links to source/, solutions/
or another student's folder inside it) has the instructor's notebooks
collected, and graded, as hers. This collector never follows a link:

* a submission that is a link (or not a folder) is refused; of a student's
  submissions, real folders are preferred (the latest first), so an older
  real one is collected instead;
* inside a submission, links, hard-linked files (their content is also some
  other file's) and anything but folders and regular files are left out.

Every refusal is logged on one line. Files are opened relative to their
folder with O_NOFOLLOW, so swapping a file for a link while collect runs does
not help either. nbgrader_config.py selects this class:

    c.ExchangeFactory.collect = "cnnlab.exchange.SafeExchangeCollect"

On a hub, where every student is a Unix account, `check_owners` also refuses a
submission folder not owned by the account it is named after (anyone can
create `inbound/bob+02_kernels+...`: nbgrader trusts the name) and leaves out
files inside it that someone else owns. `PrivateExchangeReleaseAssignment`
makes the exchange's folders so that students cannot rename, delete or list
each other's entries (nbgrader's own makes the root world-writable).
"""
from __future__ import annotations

import fnmatch
import os
import pwd
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from traitlets import Bool

#: Flags for opening a submission's folders and files: never through a link, never blocking
#: on a pipe swapped in while collect runs.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


class SubmissionRefused(Exception):
    """A whole submission is not collected (one line)."""


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's ExchangeCollect, copying submissions without following links."""

    check_owners = Bool(False, config=True, help=(
        "Collect a submission only when its folder is owned by the Unix account of the student it "
        "is named after, and leave out the files in it owned by anyone else. For exchanges where "
        "each student is an account (a JupyterHub); `cnnlab hub` turns it on."))

    def _sort_by_timestamp(self, records):
        # nbgrader takes the first record of each student: real folders come first (latest
        # first), links last, so a link is only ever picked when a student has nothing else
        # (and is then refused in copy_files).
        # With check_owners, folders made by someone else come after the student's own, so a
        # forged later one never hides her real submission.
        newest = super()._sort_by_timestamp(records)
        folders = [r for r in newest if self._is_folder(r)]
        own = [r for r in folders if self._owner_problem(r) is None]
        ranked = own + [r for r in folders if r not in own] + [r for r in newest if not self._is_folder(r)]
        for rec in ranked[1:]:  # passed over; the first is refused, if it must be, in copy_files
            if rec in folders and rec not in own:
                self.log.warning("Refused the submission %s named after %s: %s", rec["filename"],
                                 rec["username"], self._owner_problem(rec))
        return ranked

    def _is_folder(self, record) -> bool:
        path = os.path.join(self.inbound_path, record["filename"])
        return not os.path.islink(path) and os.path.isdir(path)

    def _owner_problem(self, record) -> str | None:
        """Why a folder named after `record`'s student is not that student's, if it is not."""
        if not self.check_owners:
            return None
        try:
            uid = pwd.getpwnam(record["username"]).pw_uid
        except KeyError:
            return "no account of that name"
        owner = os.lstat(os.path.join(self.inbound_path, record["filename"])).st_uid
        if owner != uid:
            try:
                name = pwd.getpwuid(owner).pw_name
            except KeyError:
                name = f"uid {owner}"
            return f"made by {name}"
        return None

    def copy_files(self):
        kept = []
        for rec in self.src_records:
            if self._is_folder(rec):
                problem = self._owner_problem(rec)
                if problem is None:
                    kept.append(rec)
                else:
                    self.log.warning("Refused the submission %s named after %s: %s", rec["filename"],
                                     rec["username"], problem)
                continue
            path = os.path.join(self.inbound_path, rec["filename"])
            what = f"a link to {os.readlink(path)}" if os.path.islink(path) else "not a folder"
            self.log.warning("Refused %s's submission %s: %s (links are never followed)",
                             rec["username"], rec["filename"], what)
        self.src_records = kept
        super().copy_files()

    def do_copy(self, src, dest, log=None):
        try:
            fd = os.open(src, DIR_FLAGS)
        except OSError as exc:
            self.log.warning("Refused the submission %s: %s (links are never followed)", src, exc.strerror)
            return
        os.mkdir(dest)
        self._copied = 0
        self._owner = os.fstat(fd).st_uid if self.check_owners else None
        try:
            self._copy_folder(fd, dest, os.path.basename(src))
        except SubmissionRefused as exc:
            shutil.rmtree(dest, ignore_errors=True)
            self.log.warning("Refused the submission %s: %s", src, exc)
        finally:
            os.close(fd)
        if os.path.isdir(dest):
            self._share_with_group(dest)

    def _copy_folder(self, dir_fd: int, dest: str, shown: str) -> None:
        """Copy the folder open as `dir_fd` into the new folder `dest`, entry by entry."""
        for entry in sorted(os.listdir(dir_fd)):
            if any(fnmatch.fnmatch(entry, glob) for glob in self.coursedir.ignore or []):
                continue  # CourseDirectory.ignore, as nbgrader's copy reads it
            try:
                self._copy_entry(dir_fd, entry, dest, f"{shown}/{entry}")
            except OSError as exc:  # unreadable, or changed while we copy: this entry only
                self.log.warning("Left out %s/%s: cannot be copied (%s)", shown, entry, exc.strerror)

    def _copy_entry(self, dir_fd: int, entry: str, dest: str, where: str) -> None:
        st = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            self.log.warning("Left out %s: a link to %s (links are never followed)", where,
                             os.readlink(entry, dir_fd=dir_fd))
        elif stat.S_ISDIR(st.st_mode):
            sub = os.open(entry, DIR_FLAGS, dir_fd=dir_fd)
            try:
                os.mkdir(os.path.join(dest, entry))
                self._copy_folder(sub, os.path.join(dest, entry), where)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            self._copy_file(dir_fd, entry, os.path.join(dest, entry), where)
        else:
            self.log.warning("Left out %s: not a regular file (a pipe, socket or device)", where)

    def _copy_file(self, dir_fd: int, name: str, dest: str, where: str) -> None:
        """One regular file, opened without following a link, within nbgrader's size options."""
        include = self.coursedir.include
        if include and not any(fnmatch.fnmatch(name, glob) for glob in include):
            return  # CourseDirectory.include
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):  # swapped since it was listed
                self.log.warning("Left out %s: not a regular file", where)
                return
            if st.st_nlink > 1:
                self.log.warning("Left out %s: a hard link (its content is another file's too)", where)
                return
            if self._owner is not None and st.st_uid != self._owner:
                self.log.warning("Left out %s: written by someone other than the student", where)
                return
            if self.coursedir.max_file_size and st.st_size > 1000 * self.coursedir.max_file_size:
                self.log.warning("Left out %s: too large (see config option CourseDirectory.max_file_size)", where)
                return
            self._copied += st.st_size
            if self._copied > 1000 * self.coursedir.max_dir_size:
                raise SubmissionRefused(f"more than {self.coursedir.max_dir_size} kB in all "
                                        "(see config option CourseDirectory.max_dir_size)")
            with os.fdopen(os.dup(fd), "rb") as src, open(dest, "xb") as out:
                shutil.copyfileobj(src, out)
            os.chmod(dest, stat.S_IMODE(st.st_mode) & 0o777)  # as copytree's copy2 would
            os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fd)

    def _share_with_group(self, dest: str) -> None:
        """nbgrader's groupshared fix-up after a copy (ug+rw files, ug+rwx folders)."""
        if not self.coursedir.groupshared:
            return
        for folder, _, files in os.walk(dest):
            try:
                os.chmod(folder, (os.stat(folder).st_mode | 0o2770) & 0o2777)
                for name in files:
                    path = os.path.join(folder, name)
                    os.chmod(path, (os.stat(path).st_mode | 0o660) & 0o777)
            except PermissionError:
                self.log.warning("Could not make %s groupshared", folder)


#: The exchange's folders on a hub. Every nbgrader client insists on a root it can write to,
#: but nbgrader's 0777 root lets a student rename the course folder and put up her own: the
#: root is sticky, as /tmp is, so nobody renames or removes what is not hers. The course
#: folder is the TA's alone; inbound is write-only for students and sticky, so nobody can
#: list, rename or delete another student's submission, and setgid so submissions carry the
#: TA's group.
ROOT_MODE = 0o1777
COURSE_MODE = 0o755
INBOUND_MODE = 0o3733


class PrivateExchangeReleaseAssignment(ExchangeReleaseAssignment):
    """nbgrader's release, on an exchange whose folders students cannot rearrange."""

    def ensure_root(self):
        if not os.path.exists(self.root):
            os.makedirs(self.root)
            os.chmod(self.root, ROOT_MODE)
            return
        mode = stat.S_IMODE(os.stat(self.root).st_mode)
        if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
            self.log.warning("The exchange %s is writable by everyone and not sticky (mode %o): students "
                             "can replace the course folder in it; making it %o", self.root, mode, ROOT_MODE)
            try:
                os.chmod(self.root, ROOT_MODE)
            except PermissionError:
                self.fail(f"{self.root} is writable by everyone and not yours to fix: make it {ROOT_MODE:o}")

    def init_dest(self):
        super().init_dest()
        mode = stat.S_IMODE(os.stat(self.inbound_path).st_mode)
        if mode != INBOUND_MODE and os.stat(self.inbound_path).st_uid == os.geteuid():
            os.chmod(self.inbound_path, INBOUND_MODE)  # sticky: nobody removes another's submission
