"""Every registered plot, drawn over the committed reference run and over a small run with two
cases of their own (``plot_runs.factory_run``), is checked from what matplotlib rendered (text
and legend bounding boxes, the display coordinates of the points), not by eye:

- a log axis spanning less than two decades has at least three labelled ticks;
- no two visible texts of a figure overlap (tick labels, titles, point labels, legends);
- no legend covers a data point;
- series told apart by colour alone keep ``MIN_DELTA_E`` apart (CIEDE2000, in normal vision and
  simulated protanopia and deuteranopia), from the colour-blind-safe palette;
- no series is called ``factory``, and each case of its own is in every plot that should show it;
- a roofline axis has its 100% line, and a bit-exact parity result sits on the exact band;
- a case a plot cannot show is named under it with the reason.

And the page: no duplicate element id, no stub for a plot the run has nothing for, and the
calibration table folded after the plots."""

from __future__ import annotations

import re
import shutil
from itertools import combinations
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import Collection, LineCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from plot_runs import FACTORY_CASES, REFERENCE_RUN, factory_run

from suite.report.context import NoData, ReportContext
from suite.report.plots import PLOTS
from suite.report.plots.readable import name_left_out
from suite.report.render import write_report
from suite.report.style import MIN_DELTA_E, PALETTE, apply_theme, colour_distance
from suite.results import load_run
from suite.samplefile import load_samples

RUNS = ("reference", "factory", "compare")
#: ``python -m suite compare``'s own block, in the one-block compare run
COMPARED = "nearest_conv_bias"
#: where each case of its own must be named (it is in the comparison set and Odena's file)
SHOWS_EVERY_OWN_CASE = (
    "checkerboard-heatmap",
    "flat-field-gallery",
    "photo-gallery",
    "azimuthal-spectra",
    "psnr-vs-latency",
    "latency",
    "parity",
)


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory: pytest.TempPathFactory, compare_run: dict) -> dict[str, Path]:
    """The default cases' reference run, a run of two own cases, and a real one-block compare
    (the session's, tests/conftest.py)."""
    assert compare_run["code"] == 0, compare_run["stderr"][-2000:]
    assert f"your {COMPARED}" in compare_run["stdout"]  # the block this module names
    return {
        "reference": REFERENCE_RUN,
        "factory": factory_run(tmp_path_factory.mktemp("mine")),
        "compare": compare_run["out"],
    }


@pytest.fixture(scope="module")
def drawn(run_dirs: dict[str, Path]):
    """Each run's context and its figures by plot name, drawn as the page draws them."""
    out = {}
    with plt.rc_context({"figure.max_open_warning": 0}):
        apply_theme()
        for name, folder in run_dirs.items():
            ctx = ReportContext(load_run(folder), load_samples(folder))
            figures = {}
            for plot in PLOTS:
                try:
                    figures[plot.name] = plot.render(ctx)
                except NoData:
                    continue
            out[name] = (ctx, figures)
    yield out
    plt.close("all")


def figures_of(drawn, run: str) -> dict[str, plt.Figure]:
    return drawn[run][1]


# -- what was rendered ---------------------------------------------------------------------------


def drawn_tick_labels(axis) -> list[Text]:
    """The labels of the ticks inside the view (a locator also returns ticks beyond it)."""
    low, high = sorted(axis.get_view_interval())
    slack = (high - low) * 1e-9
    labels = []
    for locs, ticks in (
        (axis.get_majorticklocs(), axis.get_major_ticks()),
        (axis.get_minorticklocs(), axis.get_minor_ticks()),
    ):
        for loc, tick in zip(locs, ticks, strict=False):
            if low - slack <= loc <= high + slack:
                labels += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return [t for t in labels if t.get_text().strip()]


def visible_texts(figure: plt.Figure) -> list[Text]:
    """Every text a reader sees: tick labels in view, and all other visible, non-empty texts
    (titles, axis labels, point labels, cell values, legend entries, the figure's title)."""
    ticks = {
        id(t)
        for ax in figure.axes
        for a in (ax.xaxis, ax.yaxis)
        for tick in a.get_major_ticks() + a.get_minor_ticks()
        for t in (tick.label1, tick.label2)
    }
    texts = [
        t
        for t in figure.findobj(Text)
        if id(t) not in ticks
        and t.get_visible()
        and t.get_text().strip()
        and (t.axes is None or t.axes.get_visible())
    ]
    for ax in figure.axes:
        if ax.get_visible() and ax.axison:
            texts += drawn_tick_labels(ax.xaxis) + drawn_tick_labels(ax.yaxis)
    return texts


def overlaps(a, b, slack: float = 1.0) -> bool:
    """Two display boxes that overlap by more than ``slack`` pixels both ways."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > slack and height > slack


def legends(figure: plt.Figure) -> list:
    return [ax.get_legend() for ax in figure.axes if ax.get_legend()] + list(figure.legends)


def data_boxes(ax) -> list:
    """Display boxes of the axes' data: each point of a scatter, each vertex of a line, each
    bar, within the axes (what is outside is clipped away)."""
    boxes = []
    for collection in ax.collections:
        if len(collection.get_offsets()):
            points = collection.get_offset_transform().transform(collection.get_offsets())
            boxes += [_point_box(x, y) for x, y in points]
    for line in ax.lines:
        points = line.get_transform().transform(np.column_stack(line.get_data()))
        boxes += [_point_box(x, y) for x, y in points if np.isfinite([x, y]).all()]
    boxes += [p.get_window_extent() for p in ax.patches if p.get_visible()]
    return [b for b in boxes if overlaps(b, ax.bbox, slack=0)]


def _point_box(x: float, y: float, radius: float = 3.0) -> Bbox:
    return Bbox([[x - radius, y - radius], [x + radius, y + radius]])


def entry_look(handle) -> tuple[str, tuple]:
    """A legend entry's colour, and what else tells it apart (its marker, line, hatch)."""
    if isinstance(handle, Line2D):
        hollow = str(handle.get_markerfacecolor()) == "none"
        shown = handle.get_linestyle() in ("None", "") and handle.get_marker() not in ("None", "")
        colour = (
            (handle.get_markeredgecolor() if hollow else handle.get_markerfacecolor())
            if shown
            else handle.get_color()
        )
        return to_hex(colour), ("line", handle.get_marker(), handle.get_linestyle(), hollow)
    if isinstance(handle, LineCollection):
        return to_hex(handle.get_color()[0]), ("whisker",)
    if isinstance(handle, Collection):
        face = handle.get_facecolor()
        colour = face[0] if len(face) and face[0][3] > 0 else handle.get_edgecolor()[0]
        path = handle.get_paths()[0].vertices.round(2)
        return to_hex(colour), ("points", path.tobytes())
    if isinstance(handle, Patch):
        colour = handle.get_facecolor()
        if handle.get_hatch() and to_hex(colour) == "#ffffff":
            colour = handle.get_edgecolor()
        return to_hex(colour), ("patch", handle.get_hatch())
    raise AssertionError(f"a legend entry of an unknown kind: {type(handle).__name__}")


def achromatic(colour: str) -> bool:
    r, g, b = to_rgb(colour)
    return max(r, g, b) - min(r, g, b) < 0.05


def every_figure(drawn):
    for run in RUNS:
        for name, figure in figures_of(drawn, run).items():
            yield run, name, figure


# -- the checks ----------------------------------------------------------------------------------


def test_every_registered_plot_is_drawn_over_one_of_the_runs(drawn):
    shown = {name for run in RUNS for name in figures_of(drawn, run)}
    assert shown == {plot.name for plot in PLOTS}


def test_a_log_axis_of_less_than_two_decades_has_three_labelled_ticks(drawn):
    checked = []
    for run, name, figure in every_figure(drawn):
        for ax in figure.axes:
            for axis in (ax.xaxis, ax.yaxis):
                low, high = sorted(axis.get_view_interval())
                if axis.get_scale() != "log" or np.log10(high / low) >= 2:
                    continue
                labels = [t.get_text() for t in drawn_tick_labels(axis)]
                checked.append((run, name))
                assert len(labels) >= 3, (run, name, (low, high), labels)
    # not empty: the factory run's latencies span 4.7 to 52 ms, as in the issue
    assert {("factory", "psnr-vs-latency"), ("factory", "latency")} <= set(checked)


@pytest.mark.parametrize("runs", [("reference", "factory"), ("compare",)])
def test_no_two_texts_of_a_figure_overlap(drawn, runs):
    renderer_of = {}
    for run, name, figure in every_figure(drawn):
        if run not in runs:
            continue
        renderer = renderer_of.setdefault(id(figure), figure.canvas.get_renderer())
        texts = visible_texts(figure)
        boxes = [t.get_window_extent(renderer) for t in texts]
        clashes = [
            (texts[i].get_text(), texts[j].get_text())
            for i, j in combinations(range(len(texts)), 2)
            if overlaps(boxes[i], boxes[j])
        ]
        assert not clashes, (run, name, clashes[:5])


def test_no_legend_covers_a_data_point(drawn):
    seen = 0
    for run, name, figure in every_figure(drawn):
        renderer = figure.canvas.get_renderer()
        for legend in legends(figure):
            seen += 1
            box = legend.get_window_extent(renderer)
            for ax in figure.axes:
                covered = [b for b in data_boxes(ax) if overlaps(box, b, slack=0)]
                assert not covered, (run, name, ax.get_title(), len(covered))
    assert seen >= 8


def test_series_told_apart_by_colour_alone_are_far_apart_in_the_palette(drawn):
    compared = 0
    for run, name, figure in every_figure(drawn):
        for legend in legends(figure):
            entries = [
                (text.get_text(), *entry_look(handle))
                for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
            ]
            for label, colour, _ in entries:
                assert colour in PALETTE or achromatic(colour), (run, name, label, colour)
            for (a, colour_a, look_a), (b, colour_b, look_b) in combinations(entries, 2):
                if look_a != look_b:
                    continue  # a shape or a line style tells these two apart
                compared += 1
                distance = colour_distance(colour_a, colour_b)
                assert distance >= MIN_DELTA_E, (run, name, a, b, colour_a, colour_b, distance)
    assert compared >= 20


@pytest.mark.parametrize(
    ("run", "own"),
    [("factory", FACTORY_CASES), ("compare", (COMPARED,))],
)
def test_no_series_is_called_factory_and_every_own_case_is_shown(drawn, run, own):
    for name, figure in figures_of(drawn, run).items():
        words = [t.get_text().replace("\n", "") for t in visible_texts(figure)]
        assert not [w for w in words if re.match(r"factory(\b|$)", w)], (name, words)
        if name in SHOWS_EVERY_OWN_CASE:
            for case_id in own:
                assert any(case_id in w for w in words), (run, name, case_id)


def test_every_roofline_axis_has_its_100_percent_line(drawn):
    roofline_axes = [
        (run, name, ax)
        for run, name, figure in every_figure(drawn)
        for ax in figure.axes
        if "roofline" in ax.get_xlabel()
    ]
    assert len(roofline_axes) == len(RUNS)  # the latency plot of each run
    for run, name, ax in roofline_axes:
        lines = [line for line in ax.lines if set(np.atleast_1d(line.get_xdata())) == {100}]
        assert lines and lines[0].get_visible(), (run, name)
        assert ax.get_xlim()[1] > 100


@pytest.mark.parametrize("run", ["reference", "factory"])  # the runs with bit-exact results
def test_bit_exact_parity_sits_on_the_exact_band_not_on_the_log_axis(drawn, run):
    ctx, figures = drawn[run]
    others = ctx.runtimes[~ctx.runtimes["reference"]]
    exact = int((others["max_rel_err"] == 0).sum())
    assert exact > 0  # not empty: both runs have bit-exact results
    band, log = figures["parity"].axes[:2]
    assert [t.get_text() for t in band.get_xticklabels()] == ["exact\n(0)"]
    on_band = sum(len(c.get_offsets()) for c in band.collections)
    mismatched = int(((others["max_rel_err"] == 0) & (others["status"] == "mismatch")).sum())
    assert on_band == exact + mismatched
    smallest = min(c.get_offsets()[:, 0].min() for c in log.collections if len(c.get_offsets()))
    assert smallest == others["max_rel_err"][others["max_rel_err"] > 0].min()


def test_the_page_has_unique_ids_no_stubs_and_the_calibration_folded_after_the_plots(
    tmp_path: Path,
):
    copy = tmp_path / "run"
    shutil.copytree(REFERENCE_RUN, copy)
    report = write_report(copy, tmp_path / "report")
    html = (tmp_path / "report" / "index.html").read_text()
    ids = re.findall(r'\bid="([^"]*)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    missing = [f for f in report.figures if f.missing]
    assert missing  # the committed run kept no lecture samples: these are left out, not stubbed
    assert "Not drawn" not in html
    for figure in missing:
        assert f'id="plot-{figure.name}"' not in html
    details = html.index('<details id="calibration">')
    assert details > html.rindex("<figure>")
    assert html.index("</details>", details) > html.index("<table>", details)


# -- the pieces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high"), [(4.7, 52.0), (10.0, 12.0), (0.3, 30.0), (1e-8, 1e-3), (2e-7, 6e-7)]
)
def test_the_log_locator_puts_three_ticks_in_view_on_any_span(low: float, high: float):
    from suite.report.plots.readable import ReadableLogLocator

    ticks = ReadableLogLocator().tick_values(low, high)
    assert np.count_nonzero((ticks >= low) & (ticks <= high)) >= 3, ticks


def test_tick_numbers_read_as_written_and_far_ones_as_powers():
    from suite.report.plots.readable import readable_number

    assert [readable_number(v) for v in (5, 20, 0.5, 0.001)] == ["5", "20", "0.5", "0.001"]
    assert readable_number(1e-7) == "$10^{-7}$"
    assert readable_number(2e-7) == "$2\\times10^{-7}$"


def test_every_method_and_runtime_declares_its_own_palette_colour():
    """The registries' colours are the palette's, none taken twice, so a new run needs no
    replacement; the decoder family's (data.py) is the one no method takes. The guided methods,
    past the palette's ten, declare none: a run gives each a free one (test_methods.py)."""
    from suite.methods import get_method, list_methods
    from suite.report.data import DECODER_COLOUR
    from suite.runtimes import get_runtime, list_runtimes

    own = {"factory", *(n for n in list_methods() if get_method(n).takes_guide)}
    methods = {n: get_method(n).colour for n in list_methods() if n not in own}
    colours = [*methods.values(), DECODER_COLOUR]
    runtimes = [get_runtime(n).colour for n in list_runtimes()]
    for declared in (colours, runtimes):
        assert set(declared) <= set(PALETTE), declared
        assert len(set(declared)) == len(declared), declared
        assert min(colour_distance(a, b) for a, b in combinations(declared, 2)) >= MIN_DELTA_E


def test_the_palette_replaces_a_colour_off_it_or_taken_and_keeps_the_others():
    from suite.report.style import distinct_colours

    given = {"a": PALETTE[3], "b": "#592f0d", "c": PALETTE[3], "d": None}
    assert distinct_colours(given) == {
        "a": PALETTE[3],
        "b": PALETTE[0],
        "c": PALETTE[1],
        "d": PALETTE[2],
    }


def test_colour_distance_sees_what_a_colour_blind_reader_sees():
    assert colour_distance("#123456", "#123456") == 0
    assert colour_distance("#000000", "#ffffff") > 90
    # tab10's orange and green: far apart in normal vision, alike under deuteranopia
    assert colour_distance("#ff7f0e", "#2ca02c") < 2


def test_a_plot_name_registered_twice_is_refused():
    from suite.report.plots import plot

    with pytest.raises(ValueError, match="'parity' is registered twice"):
        plot("parity", "again", "a second parity plot")(lambda ctx: None)
    assert [p.name for p in PLOTS].count("parity") == 1


def test_every_module_of_the_plots_package_is_found_without_a_list():
    """Each module beside the helpers registers a plot: the package walks itself."""
    import pkgutil

    import suite.report.plots as package

    helpers = {"common", "readable", "registry"}
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - helpers
    registering = {p.draw.__module__.rsplit(".", 1)[-1] for p in PLOTS if p.section != "lecture"}
    assert modules == registering


def test_a_plot_names_the_cases_it_cannot_show_and_why():
    figure = plt.figure(figsize=(6, 4))
    name_left_out(figure, "no hypercolumn PSNR", [])
    assert figure._supxlabel is None  # nothing left out: nothing said
    names = [f"block-{k}" for k in range(11)]
    name_left_out(figure, "no hypercolumn PSNR", [*names, "block-0"])
    said = figure._supxlabel.get_text().replace("\n", " ")
    assert said.startswith("not shown (no hypercolumn PSNR): block-0, block-1")
    assert said.endswith("block-7 and 3 more")
    plt.close(figure)
