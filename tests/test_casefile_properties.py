"""Property-based: whatever a case file holds (valid cases, broken keys and values, unknown
methods, broken factories, text that is not TOML), loading it ends as documented: exit 0 with
the cases listed, or exit 2 with one ``error:`` line per problem, never a traceback, and nothing
written beside the file."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suite.cli import main as cli_main
from suite.methods import list_methods

#: broken factories of tests/factories.py (each refused at load time) and good ones
FACTORIES = [
    "factories:nearest_conv_bias",
    "factories:repeated_resize_conv",
    "factories:raises",
    "factories:not_a_module",
    "factories:doubles_channels",
    "factories:wrong_scale",
    "factories:returns_nan",
    "factories:returns_inf",
    "factories:fails_on_input",
    "factories:returns_tuple",
    "factories:missing",
    "nowhere.at_all:make",
    "no-colon",
]
#: values for each key: some valid, some of the wrong type or range
VALUES = {
    "kernel": st.sampled_from([1, 2, 3, 4, 0, -1, "3", 2.5, [2, 3]]),
    "stride": st.sampled_from([1, 2, 3, 0, True]),
    "scale": st.sampled_from([1, 2, 3, 4, 0, -2, "two", [2, 4]]),
    "size": st.sampled_from([4, 8, 12, "8x12", "8x", "axb", 0, -3, [8, 12]]),
    "channels": st.sampled_from([1, 2, 4, 0, 3.0, "4"]),
    "seed": st.sampled_from([0, 1, -1, "x"]),
    "init": st.sampled_from(["random", "ones", "icnr", "bilinear", "nonsense", 3]),
    "mode": st.sampled_from(["nearest", "bilinear", "bicubic", "lanczos"]),
    "padding": st.sampled_from([0, 1, 2, -1]),
    "align_corners": st.sampled_from([True, False, "yes"]),
    "hidden": st.sampled_from([4, 0]),
    "bogus": st.sampled_from([1, "x"]),
    "repeat": st.sampled_from([1, 2, "x"]),
}
METHODS = st.sampled_from([*list_methods(), "no_such_method", 7])


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return repr(value)


@st.composite
def case_table(draw) -> list[str]:
    lines = ["[[case]]"]
    if draw(st.integers(0, 9)):  # an id, but now and then none
        lines.append(f'id = "{draw(st.sampled_from(["a", "b", "c", ""]))}"')
    if draw(st.integers(0, 3)) == 0:
        lines.append(f'factory = "{draw(st.sampled_from(FACTORIES))}"')
    else:
        lines.append(f"method = {toml_value(draw(METHODS))}")
    for key in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=4, unique=True)):
        lines.append(f"{key} = {toml_value(draw(VALUES[key]))}")
    return lines


@st.composite
def case_file(draw) -> str:
    if draw(st.integers(0, 19)) == 0:  # text that is not TOML at all
        return draw(st.sampled_from(["[[case]\nid=", "x = = 1", "\x00\x01", "[[case]]\nid = 'a"]))
    lines = []
    if draw(st.booleans()):
        lines.append("[defaults]")
        for key in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True)):
            lines.append(f"{key} = {toml_value(draw(VALUES[key]))}")
    for _ in range(draw(st.integers(0, 3))):
        lines += ["", *draw(case_table())]
    return "\n".join(lines) + "\n"


def listed(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["list", str(path)])
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,  # the same 500 files in every CI run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(text=case_file())
def test_any_case_file_lists_or_is_refused_in_one_line_each(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.toml"
        path.write_text(text, encoding="utf-8")
        code, out, err = listed(path)  # an exception here (a traceback) fails the test
        assert sorted(p.name for p in Path(folder).iterdir()) == ["cases.toml"]
    assert code in (0, 2), (code, text)
    assert "Traceback" not in out + err
    if code == 0:
        assert err == "" and " cases" in out.splitlines()[0]
    else:
        lines = err.splitlines()
        assert lines and all(line.startswith(f"error: {path}") for line in lines), err
