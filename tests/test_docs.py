"""The docs: the reference pages are what the registries give now (``python -m suite docs``), the
README stays a front page, and every relative link in README.md and docs/ leads somewhere."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from suite.cli import main as cli
from suite.commands.docs import stale_pages
from suite.docs_tables import GENERATED, pages

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
README = ROOT / "README.md"
#: every Markdown page a reader reaches from the front page
DOC_PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def test_the_committed_reference_pages_are_what_the_registries_give_now():
    problems = stale_pages(REFERENCE, pages())
    assert not problems, "\n".join([*problems, "run `python -m suite docs` and commit"])


def test_docs_check_names_a_stale_a_missing_and_an_unknown_page(tmp_path, capsys):
    shutil.copytree(REFERENCE, tmp_path, dirs_exist_ok=True)
    assert cli(["docs", "--check", "--out", str(tmp_path)]) == 0
    stale = tmp_path / "methods.md"
    stale.write_text(stale.read_text().replace("[`transposed`]", "[`transposed-old`]", 1))
    (tmp_path / "runtimes.md").unlink()
    (tmp_path / "renamed.md").write_text(GENERATED + "\n")
    capsys.readouterr()
    assert cli(["docs", "--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{stale}: stale" in err
    assert f"{tmp_path / 'runtimes.md'}: missing" in err
    assert f"{tmp_path / 'renamed.md'}: no table generates it" in err
    assert "case-keys.md" not in err  # an unchanged page is not named


def test_docs_writes_every_page_and_then_checks_clean(tmp_path):
    out = tmp_path / "reference"
    assert cli(["docs", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(pages())
    assert all(p.read_text().startswith(GENERATED) for p in out.iterdir())
    assert cli(["docs", "--check", "--out", str(out)]) == 0


def test_the_pages_do_not_depend_on_the_machine(monkeypatch):
    """``run --threads`` and ``--workers`` default to the usable cores and ``--cache`` and
    ``--workers`` read the environment: none of it may reach a committed page."""
    before = pages()
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6})
    monkeypatch.setenv("UPSAMPLING_BENCH_WORKERS", "13")
    monkeypatch.setenv("UPSAMPLING_BENCH_CACHE", "/somewhere/else")
    monkeypatch.setenv("COLUMNS", "37")
    assert pages() == before


def test_the_readme_is_a_front_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/"


def test_the_readme_holds_the_test_command_ci_runs():
    """.ci/run runs the README's test command; the README must still say it."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = next(line for line in ci if "tox -e py" in line and not line.startswith("#"))
    assert command.strip() in README.read_text()


def test_the_readme_names_every_command():
    """The README's command table is typed (it shows how each is called): a new command must
    join it. The full list is generated (docs/reference/cli.md)."""
    from suite.cli import COMMANDS

    readme = README.read_text()
    assert not [name for name in COMMANDS if f"python -m suite {name}" not in readme]


def test_the_readme_links_every_docs_page():
    linked = {target for _, target, _ in _links(README)}
    for page in DOC_PAGES[1:]:
        assert page.relative_to(ROOT).as_posix() in linked, f"README.md does not link {page}"


def test_commit_hashes_appear_only_on_the_measurements_page():
    """Dated figures live on one page, each table with its commit; elsewhere a link to it."""
    for page in DOC_PAGES:
        if page.name != "measurements.md":
            hashes = re.findall(r"`([0-9a-f]{7,12})`", page.read_text())
            assert not [h for h in hashes if re.search(r"\d", h) and re.search("[a-f]", h)], page


# --- links ---------------------------------------------------------------------------------------

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _links(page: Path) -> list[tuple[Path, str, str]]:
    """(page, target relative to the root, anchor) for every relative link of ``page``."""
    found = []
    for target in LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        found.append((page, resolved.relative_to(ROOT).as_posix(), anchor))
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation gone, spaces to
    hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, flags=re.M):
        slug, n = _slug(heading), 1
        while slug in anchors:  # GitHub numbers a repeated heading's anchor
            slug, n = f"{_slug(heading)}-{n}", n + 1
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for _, target, anchor in _links(page):
        path = ROOT / target
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}#{anchor}: no such heading")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_link_check_sees_a_broken_file_and_a_broken_anchor(tmp_path, monkeypatch):
    """The check above proves itself: a page with a dead link and a dead anchor fails it."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "a.md").write_text("# Set-up: two commands\n\n## Case `keys`\n")
    page = tmp_path / "b.md"
    page.write_text("[x](a.md#set-up-two-commands) [y](a.md#case-keys) `[z](no.md)`\n")
    test_every_relative_link_leads_to_a_file_and_heading_that_exist(page)
    page.write_text("[x](missing.md) [y](a.md#nowhere)\n")
    with pytest.raises(AssertionError, match=r"missing.md: no such file; a.md#nowhere: no such"):
        test_every_relative_link_leads_to_a_file_and_heading_that_exist(page)
