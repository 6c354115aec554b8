"""Bounded, attribution-safe extraction of an LMS download for zip_collect.

nbgrader's own ExtractorPlugin unpacks every archive it finds, recursively,
into one tree, with no size limits, and aborts everything on the first file
that is named like an archive but is not one. In an LMS download most
archives are students' uploads, so each of those is a student's problem
alone, and a file inside one must never be read as another student's:

* An archive directly in `downloaded/<A>/archive/` is the LMS's download
  (depth 1). It is extracted into `extracted/<its name without suffix>/`; a
  member that cannot be written safely is left out and listed, but a download
  that cannot be read or is over the limits stops the collect (the caller
  turns `SafeExtractor.fatal` into a one-line error) with nothing left behind.
* Every other archive (a member of the download, or a file in a folder under
  `archive/`) is a student's upload (depth 2). It is extracted into a folder
  named exactly as the archive file was (`doe_12345_67890_work.zip/`), and
  `SafeExtractor.student_archives` records that folder: the collector reads
  the student from that outer, LMS-given name only. An upload that is not an
  archive, is over a limit or holds an unsafe member is refused as a whole
  (nothing of it extracted) and listed with a one-line reason.
* Archives inside an upload (depth 3) are not opened (MAX_DEPTH).

Every archive is checked against the limits below before extraction (member
count, declared sizes) and while it is streamed (a running count of bytes
actually written, so a header that lies does not help). Members with
absolute paths or `..`, symbolic and hard links and device files are never
written; files are created with O_EXCL | O_NOFOLLOW, so nothing can be
written outside the extraction folder. A name that is not UTF-8 (possible in
tar archives) or holds control characters is renamed (bad bytes become "_")
and listed in `renamed`.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins.zipcollect import ExtractorPlugin

MiB = 1 << 20
GiB = 1 << 30

#: Everything one collect extracts: the download and every student's archive in it.
#: A class of 300 with notebooks of a few MB each stays well below it.
MAX_TOTAL_BYTES = 1 * GiB
#: One student's archive, uncompressed.
MAX_UPLOAD_BYTES = 200 * MiB
#: One file in any archive (a notebook with plots is a few MB).
MAX_MEMBER_BYTES = 50 * MiB
#: Uncompressed : compressed, for a zip member or a whole tar stream. Notebooks compress
#: about 3-10:1; deflate tops out near 1000:1, which only filler reaches.
MAX_RATIO = 200
#: Files this small are never refused for their ratio (a tiny tar is mostly padding).
RATIO_FLOOR = 1 * MiB
#: Files and folders in one archive.
MAX_MEMBERS = 10_000
#: The download is depth 1, a student's archive in it depth 2; deeper archives stay closed.
MAX_DEPTH = 2
#: Names read as archives (case-insensitive). Anything else is copied as a file.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".gz", ".tbz2", ".bz2", ".txz", ".xz")
#: Bytes per read while streaming a member.
CHUNK = 64 * 1024
#: Bytes a tar stream may hold beyond its files: a 512-byte header and padding per member.
TAR_OVERHEAD = 1024 * MAX_MEMBERS + 20 * 1024


class ArchiveRefused(Exception):
    """The whole archive is not extracted (one line, for the TA)."""


class MemberRefused(Exception):
    """One member is not written (one line)."""


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(name: str) -> str:
    """`submissions.zip` -> `submissions`, `work.tar.gz` -> `work` (nbgrader's folder names)."""
    lower = name.lower()
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", *ARCHIVE_SUFFIXES):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)]
    return name


def safe_part(part: str) -> str:
    """A path component that can be written and read back as UTF-8 text: bytes
    that are not UTF-8 (surrogate escapes from tarfile or os.walk), U+FFFD and
    control characters become "_"."""
    try:
        part.encode("utf-8")
    except UnicodeEncodeError:
        part = part.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("_" if ch == "\ufffd" or unicodedata.category(ch) == "Cc" else ch for ch in part)


def shown(name: str) -> str:
    """A name as the report can print it (undecodable bytes as \\xNN)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_DRIVE = re.compile(r"^[A-Za-z]:")


def member_parts(name: str) -> tuple[list[str], bool]:
    """The components of a member's path inside its extraction folder, and
    whether any had to be renamed. MemberRefused for a path that leaves the
    folder (absolute, a drive, `..`); a backslash counts as a separator, as
    Windows tools write it."""
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise MemberRefused("an absolute path (it would be written outside its folder)")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise MemberRefused("a path with '..' (it would be written outside its folder)")
    safe = [safe_part(p) for p in parts]
    return safe, safe != parts


@dataclass
class Extracted:
    """What one archive gave: files written (paths relative to its folder),
    members left out and names changed, each with a one-line reason."""

    written: int = 0
    files: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)


class _Writer:
    """Writes the members of one archive into `dest`, counting every byte.

    strict: a member that cannot be written refuses the whole archive (a
    student's upload); otherwise it is left out and listed (the LMS download)."""

    def __init__(self, dest: Path, max_bytes: int, too_big: str, strict: bool):
        self.dest, self.max_bytes, self.too_big, self.strict = dest, max_bytes, too_big, strict
        self.out = Extracted()
        self.members = 0

    def count(self) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise ArchiveRefused(f"more than {MAX_MEMBERS:,} files and folders")

    def refuse(self, name: str, reason: str) -> None:
        if self.strict:
            raise ArchiveRefused(f"{shown(name)}: {reason}")
        self.out.refused.append((shown(name), reason))

    def directory(self, name: str) -> None:
        self.count()
        try:
            parts, _ = member_parts(name)
            if parts:
                self._folder(parts)
        except MemberRefused as exc:
            self.refuse(name, str(exc))

    def file(self, name: str, stream_of, declared: int, compressed: int | None = None) -> None:
        """`stream_of()` opens the member's data; `compressed` is its compressed
        size where the format has one per member (zip), for the ratio check."""
        self.count()
        try:
            parts, renamed = member_parts(name)
            if not parts:
                raise MemberRefused("a file without a name")
            if declared > MAX_MEMBER_BYTES:
                raise MemberRefused(f"{declared / MiB:.0f} MiB uncompressed "
                                    f"(at most {MAX_MEMBER_BYTES // MiB} MiB a file)")
            if self.out.written + declared > self.max_bytes:
                raise ArchiveRefused(self.too_big)
            target = self._folder(parts[:-1]) / parts[-1]
            ratio_bound = max(RATIO_FLOOR, MAX_RATIO * compressed) if compressed is not None else None
            with stream_of() as stream:
                self.out.written += self._copy(stream, target, ratio_bound)
        except MemberRefused as exc:
            self.refuse(name, str(exc))
            return
        rel = "/".join(parts)
        self.out.files.append(rel)
        if renamed:
            self.out.renamed.append((rel, f"renamed from '{shown(name)}': its name was not UTF-8 text"))

    def _folder(self, parts: list[str]) -> Path:
        """dest/parts, created folder by folder; a component that exists as
        anything but a real folder (a file, a link) refuses the member."""
        folder = self.dest
        for part in parts:
            folder = folder / part
            try:
                os.mkdir(folder)
            except FileExistsError:
                if folder.is_symlink() or not folder.is_dir():
                    raise MemberRefused("a folder of the same name as a file") from None
            except OSError as exc:
                raise MemberRefused(f"cannot be written ({exc.strerror})") from None
        return folder

    def _copy(self, stream, target: Path, ratio_bound: int | None) -> int:
        """Stream into a new file (never through an existing name or link), within the limits."""
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            raise MemberRefused("a second file of the same name") from None
        except OSError as exc:
            raise MemberRefused(f"cannot be written ({exc.strerror})") from None
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > MAX_MEMBER_BYTES:
                        raise MemberRefused(f"more than {MAX_MEMBER_BYTES // MiB} MiB uncompressed")
                    if ratio_bound is not None and size > ratio_bound:
                        raise MemberRefused(f"compressed more than {MAX_RATIO}:1 (a zip bomb?)")
                    if self.out.written + size > self.max_bytes:
                        raise ArchiveRefused(self.too_big)
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return size


def _extract_zip(path: Path, writer: _Writer) -> None:
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:  # before anything is written
            raise ArchiveRefused(f"more than {MAX_MEMBERS:,} files and folders")
        if sum(i.file_size for i in infos) > writer.max_bytes:
            raise ArchiveRefused(writer.too_big)
        for info in infos:
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                writer.count()
                writer.refuse(info.filename, "a symbolic link (never written)")
            elif info.is_dir():
                writer.directory(info.filename)
            elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                writer.count()
                writer.refuse(info.filename, "not a regular file")
            elif info.flag_bits & 0x1:
                writer.count()
                writer.refuse(info.filename, "encrypted")
            else:
                writer.file(info.filename, lambda info=info: z.open(info), info.file_size, info.compress_size)


class _Bounded:
    """A decompressed stream that stops with ArchiveRefused past `limit` bytes
    (tar members are only as big as their headers say, but the stream around
    them is not: this bounds the whole decompression)."""

    def __init__(self, raw, limit: int, reason: str):
        self.raw, self.limit, self.reason, self.read_bytes = raw, limit, reason, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if size is not None and size >= 0 else CHUNK)
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise ArchiveRefused(self.reason)
        return data


def _decompressor(path: Path, head: bytes):
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(path)
    if head.startswith(b"BZh"):
        return bz2.BZ2File(path)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(path)
    return open(path, "rb")


def _extract_tar(path: Path, writer: _Writer, head: bytes) -> None:
    size = path.stat().st_size
    ratio_limit = max(RATIO_FLOOR, MAX_RATIO * size)
    limit, reason = writer.max_bytes + TAR_OVERHEAD, writer.too_big
    if ratio_limit < limit:
        limit, reason = ratio_limit, f"compressed more than {MAX_RATIO}:1 (a zip bomb?)"
    with _decompressor(path, head) as raw:
        # stream mode ("r|"): one pass, headers read as they come, nothing sought
        with tarfile.open(fileobj=_Bounded(raw, limit, reason), mode="r|", encoding="utf-8",
                          errors="surrogateescape") as tar:
            for member in tar:
                if member.issym() or member.islnk():
                    writer.count()
                    writer.refuse(member.name, f"a {'symbolic' if member.issym() else 'hard'} link "
                                               f"to {shown(member.linkname)!r} (never written)")
                elif member.isdir():
                    writer.directory(member.name)
                elif not member.isreg():
                    writer.count()
                    writer.refuse(member.name, "not a regular file (a device or a pipe)")
                else:
                    writer.file(member.name, lambda m=member: _Closing(tar.extractfile(m)), member.size)


class _Closing:
    """A context manager around a file object that may lack one."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        self.f.close()


def _kind(path: Path) -> tuple[str | None, bytes]:
    """"zip", "tar" or None (not an archive), from the file's first bytes, not its name."""
    with open(path, "rb") as f:
        head = f.read(512 + 8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip", head
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or head[257:262] == b"ustar":
        return "tar", head
    return None, head


#: What reading a broken archive can raise (zipfile, tarfile, the decompressors).
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError,
               OSError, RuntimeError, ValueError, NotImplementedError)


def extract_archive(path: Path, dest: Path, max_bytes: int, too_big: str, strict: bool) -> Extracted:
    """Extract the archive `path` into the new folder `dest`, within MAX_* and
    `max_bytes` (`too_big` says why that one was hit). ArchiveRefused when the
    archive as a whole cannot be extracted; `dest` is then removed."""
    os.mkdir(dest)
    writer = _Writer(dest, max_bytes, too_big, strict)
    try:
        kind, head = _kind(path)
        if kind is None:
            raise ArchiveRefused("not a zip or tar archive, though named like one")
        if kind == "zip":
            _extract_zip(path, writer)
        else:
            _extract_tar(path, writer, head)
    except ArchiveRefused:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except READ_ERRORS as exc:
        shutil.rmtree(dest, ignore_errors=True)
        what = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise ArchiveRefused(f"cannot be read as a {kind} archive ({what})") from None
    return writer.out


class SafeExtractor(ExtractorPlugin):
    """A zip_collect extractor that bounds extraction and keeps a student's
    archive hers (see the module docstring). After `extract`:

    student_archives -- {folder of an extracted student archive, relative to
                        extracted/: the number of files in it}; the folder has
                        the archive's own (LMS-given) name
    refused          -- [(path relative to extracted/, one-line reason)] not extracted
    renamed          -- [(new path relative to extracted/, what happened)]
    fatal            -- the one-line reason the download itself was refused, or None
    """

    def extract(self, archive_path: str, extracted_path: str) -> None:
        self.student_archives: dict[str, int] = {}
        self.refused: list[tuple[str, str]] = []
        self.renamed: list[tuple[str, str]] = []
        self.fatal: str | None = None
        self.written = 0
        self._root = Path(extracted_path)
        try:
            self._walk(Path(archive_path))
        except ArchiveRefused as exc:
            self.fatal = str(exc)
            for child in self._root.iterdir():  # nothing half-extracted is left for the collector
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            fail = getattr(self.parent, "fail", None)
            if fail is None:
                raise
            fail("%s", self.fatal)  # nbgrader's way out: one logged line, exit 1 (no traceback)

    def _walk(self, archive_path: Path) -> None:
        """Everything under archive/: downloads at its top, students' files below."""
        for folder, dirs, files in os.walk(archive_path):
            dirs.sort()
            here = Path(folder)
            rel = here.relative_to(archive_path)
            safe = Path(*[safe_part(p) for p in rel.parts]) if rel.parts else Path()
            for name in sorted(files + [d for d in dirs if (here / d).is_symlink()]):
                source = here / name
                target = safe / safe_part(name)
                if source.is_symlink():
                    self.refused.append((shown(str(rel / name)), "a symbolic link (never followed)"))
                elif not rel.parts and is_archive_name(name):
                    self._download(source)
                elif is_archive_name(name):
                    (self._root / safe).mkdir(parents=True, exist_ok=True)
                    self._student_archive(source, target, depth=2)
                else:
                    self._copy_file(source, target, str(rel / name))

    def _download(self, source: Path) -> None:
        """The LMS's download: any problem with it as a whole stops the collect."""
        name = safe_part(archive_stem(source.name))
        left = MAX_TOTAL_BYTES - self.written
        try:
            got = extract_archive(source, self._root / name, left,
                                  f"more than {MAX_TOTAL_BYTES // GiB} GiB uncompressed", strict=False)
        except ArchiveRefused as exc:
            raise ArchiveRefused(f"{shown(source.name)}: {exc}") from None
        except FileExistsError:
            raise ArchiveRefused(f"{shown(source.name)}: two downloads extract to {name}/") from None
        self._record(Path(name), got)
        for rel in got.files:
            if is_archive_name(rel):
                archive = self._root / name / rel
                self._student_archive(archive, Path(name) / rel, depth=2, remove_after=True)

    def _student_archive(self, source: Path, target: Path, depth: int, remove_after: bool = False) -> None:
        """A student's archive: extracted into the folder `target` (named as the
        archive was), or refused as a whole and listed."""
        if depth > MAX_DEPTH:
            return
        left = MAX_TOTAL_BYTES - self.written
        limit, too_big = MAX_UPLOAD_BYTES, f"more than {MAX_UPLOAD_BYTES // MiB} MiB uncompressed"
        if left < limit:
            limit = left
            too_big = f"the collect's limit of {MAX_TOTAL_BYTES // GiB} GiB for everything extracted is used up"
        staging = Path(tempfile.mkdtemp(prefix=".student-archive-", dir=self._root)) / "x"
        try:
            got = extract_archive(source, staging, limit, too_big, strict=True)
        except ArchiveRefused as exc:
            self.refused.append((str(target), f"a student's archive, not extracted: {exc}"))
            got = None
        if remove_after:
            source.unlink()  # the folder takes the archive's name; its bytes are no longer needed
        if got is not None:
            staging.rename(self._root / target)
            self.student_archives[str(target)] = len(got.files)
            self._record(target, got)
            self.log.info("Extracted the student's archive %s (%d files)", target, len(got.files))
        shutil.rmtree(staging.parent, ignore_errors=True)
        if got is not None and depth < MAX_DEPTH:  # only if MAX_DEPTH is raised: archives in archives
            for rel in got.files:
                if is_archive_name(rel):
                    self._student_archive(self._root / target / rel, target / rel, depth + 1, remove_after=True)

    def _copy_file(self, source: Path, target: Path, shown_rel: str) -> None:
        """A plain file from a folder under archive/ (an unpacked download)."""
        if not source.is_file():  # a pipe would block the copy forever
            self.refused.append((shown(shown_rel), "not a regular file (a pipe, socket or device)"))
            return
        size = source.stat().st_size
        if size > MAX_MEMBER_BYTES:
            self.refused.append((shown(shown_rel),
                                 f"{size / MiB:.0f} MiB (at most {MAX_MEMBER_BYTES // MiB} MiB a file)"))
            return
        if self.written + size > MAX_TOTAL_BYTES:
            raise ArchiveRefused(f"{shown(shown_rel)}: more than {MAX_TOTAL_BYTES // GiB} GiB in all")
        (self._root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, self._root / target, follow_symlinks=False)
        self.written += size
        if str(target) != shown_rel:
            self.renamed.append((str(target), f"renamed from '{shown(shown_rel)}': its name was not UTF-8 text"))

    def _record(self, folder: Path, got: Extracted) -> None:
        self.written += got.written
        # joined as text: a refused member's own name may be absolute ("/etc/x"), and must show as it was
        self.refused += [(f"{folder}/{rel}", why) for rel, why in got.refused]
        self.renamed += [(f"{folder}/{rel}", why) for rel, why in got.renamed]
