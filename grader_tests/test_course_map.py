"""course.yml maps every guiding question, verbatim, to auto-graded items that exist."""
from __future__ import annotations

import re
from pathlib import Path

from cnnlab.nbtools import grade_id, nbgrader_meta

# The course page itself (a copy of the course's page, docs/learn-cnns-course-page.md): its
# guiding questions are the bullets under "## Guiding Questions", quoted exactly.
COURSE_PAGE = Path(__file__).resolve().parents[1] / "docs" / "learn-cnns-course-page.md"


def guiding_questions() -> list[str]:
    section = COURSE_PAGE.read_text(encoding="utf-8").split("## Guiding Questions", 1)[1].split("\n## ", 1)[0]
    return [line[2:].strip() for line in section.splitlines() if line.startswith("* ")]


# The videos the course page sends students to.
COURSE_PAGE_VIDEOS = {"statquest_cnn", "deeplizard_cnn", "cs231n_lecture5", "siraj_cnn", "alexnet",
                      "cs231n_lecture9", "sentdex_keras"}


def _cells(course):
    out = {}
    for a in course.assignments:
        for nb in a.notebooks:
            for cell in course.read_source(a.id, nb).cells:
                if grade_id(cell):
                    out.setdefault(a.id, {})[grade_id(cell)] = cell
    return out


def test_every_guiding_question_appears_verbatim_once(course):
    texts = [q["text"] for q in course.questions]
    assert len(guiding_questions()) == 10
    assert sorted(texts) == sorted(guiding_questions())


def test_every_question_is_assessed_by_auto_graded_points(course):
    cells = _cells(course)
    for q in course.questions:
        points = 0.0
        assert q.get("assessed_by"), f"{q['id']}: no grade_ids"
        for assignment_id, ids in q["assessed_by"].items():
            for gid in ids:
                cell = cells.get(assignment_id, {}).get(gid)
                assert cell is not None, f"{q['id']}: {assignment_id}/{gid} is not in source/"
                meta = nbgrader_meta(cell)
                assert meta.get("grade") and not meta.get("solution") and cell.cell_type == "code", \
                    f"{gid} is not an autograded test cell"
                assert float(meta.get("points", 0)) > 0, f"{gid} carries no points"
                points += float(meta["points"])
        assert points > 0, f"{q['id']} has no auto-graded point"


def test_grade_ids_are_unique_across_the_course(course):
    seen = {}
    for a in course.assignments:
        for nb in a.notebooks:
            for cell in course.read_source(a.id, nb).cells:
                gid = grade_id(cell)
                if gid:
                    assert gid not in seen, f"{gid} is in both {seen[gid]} and {a.id}"
                    seen[gid] = a.id


def test_videos_are_known_and_all_course_page_videos_are_used(course):
    videos = course.videos
    assert COURSE_PAGE_VIDEOS <= set(videos)
    used = set()
    for q in course.questions:
        assert set(q.get("videos", {})) <= set(videos), q["id"]
        used |= set(q.get("videos", {}))
    for a in course.assignments:
        assert set(a.videos) <= set(videos), a.id
        used |= set(a.videos)
    assert COURSE_PAGE_VIDEOS <= used, f"never linked: {COURSE_PAGE_VIDEOS - used}"


def test_notebook_links_are_the_course_videos(course):
    urls = {v["url"] for v in course.videos.values()}
    for a in course.assignments:
        linked = set()
        for nb in a.notebooks:
            for cell in course.read_source(a.id, nb).cells:
                if cell.cell_type == "markdown":
                    linked |= {u.split("&t=")[0] for u in re.findall(r"\((https?://[^)\s]+)\)", cell.source)}
        video_urls = {u for u in linked if "youtube.com" in u or "papers.nips.cc" in u}
        assert video_urls, f"{a.id} links no video"
        assert video_urls <= urls, f"{a.id} links videos course.yml does not know: {video_urls - urls}"
        for vid in a.videos:
            assert course.videos[vid]["url"] in linked, f"{a.id} lists {vid} but never links it"


def test_every_listed_notebook_exists(course):
    for a in course.assignments:
        for nb in a.notebooks:
            assert course.source_notebook(a.id, nb).is_file()


MINUTE = re.compile(r"≈\s*\d|\b\d{1,2}:\d{2}\b|[?&]t=\d")


def test_no_video_is_cited_by_a_minute_that_was_never_checked(course):
    """The minute marks were set from memory and could not be checked against the videos: questions
    point into videos by topic, and the lessons link whole videos (course.yml's header says how an
    instructor who has checked a minute may add it)."""
    for q in course.questions:
        for vid, where in (q.get("videos") or {}).items():
            assert where and not MINUTE.search(str(where)), f"{q['id']}: {vid} is cited as {where!r}"
    for a in course.assignments:
        for nb in a.notebooks:
            for cell in course.read_source(a.id, nb).cells:
                if cell.cell_type == "markdown":
                    assert not MINUTE.search(cell.source), f"{a.id}/{nb}: {MINUTE.search(cell.source).group()!r}"


def _page_videos() -> dict[str, tuple[str, str]]:
    """{url: (title, by)} of the course page's video links ('Video: TITLE, BY')."""
    page = COURSE_PAGE.read_text(encoding="utf-8")
    return {url: tuple(text.rsplit(", ", 1)) for url, text in
            re.findall(r'<a href="(https://www\.youtube\.com/[^"]+)"[^>]*>Video: ([^<]+)</a>', page)}


def test_videos_are_titled_and_ordered_as_on_the_course_page(course):
    page = _page_videos()
    assert len(page) == 6
    videos = course.videos
    for vid, v in videos.items():
        if v["url"] in page:
            assert (v["title"], v["by"]) == page[v["url"]], f"{vid}: the course page calls it {page[v['url']]}"
        else:   # the page's AlexNet link is empty; it quotes the paper's title
            assert f'"{v["title"]}"' in COURSE_PAGE.read_text(encoding="utf-8"), vid
    assert [v["url"] for v in videos.values() if v["url"] in page] == list(page)   # the page's order


def test_the_lessons_link_each_video_by_its_course_page_title(course):
    page = _page_videos()
    seen = 0
    for a in course.assignments:
        for nb in a.notebooks:
            for cell in course.read_source(a.id, nb).cells:
                for text, url in re.findall(r"\[([^\]]+)\]\((https://www\.youtube\.com/[^)\s]+)\)", cell.source):
                    if url in page:
                        assert text == page[url][0], f"{a.id}/{nb} links {url} as {text!r}, the page as {page[url][0]!r}"
                        seen += 1
    assert seen >= 8


def test_an_assignment_released_after_others_names_earlier_ones_and_the_readme_says_so(course):
    from cnnlab.coursemap import render

    order = [a.id for a in course.assignments]
    later = [a for a in course.assignments if a.release_after]
    assert later, "05 gives 02's and 03's forward passes away: course.yml must say it comes after them"
    table = render(course)
    for a in later:
        assert all(b in order[:order.index(a.id)] for b in a.release_after), a.id
        row = next(line for line in table.splitlines() if line.startswith(f"| `{a.id}`"))
        assert "released after " + " and ".join(f"`{b}`" for b in a.release_after) in row
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert table in readme  # the README's course map is the rendered one
