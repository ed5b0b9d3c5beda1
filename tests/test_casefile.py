"""Case files: expansion, defaults, and one clear line per problem."""

from __future__ import annotations

import pytest

from suite.casefile import load_cases
from suite.errors import UsageError


def problems(path) -> list[str]:
    with pytest.raises(UsageError) as err:
        load_cases([path])
    return err.value.lines


def test_lists_expand_into_every_combination_with_stable_ids(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "grid"
        method = "transposed"
        kernel = [2, 3]
        stride = [2, 3]
        """
    )
    cases = load_cases([path])
    assert [c.id for c in cases] == [
        "grid[kernel=2,stride=2]",
        "grid[kernel=2,stride=3]",
        "grid[kernel=3,stride=2]",
        "grid[kernel=3,stride=3]",
    ]
    assert [c.stages[0].params["kernel"] for c in cases] == [2, 2, 3, 3]
    assert cases[1].output_shape == (1, 1, 192, 192)  # default size 64, stride 3


def test_defaults_fill_only_keys_the_method_uses(write_cases):
    path = write_cases(
        """
        [defaults]
        size = 10
        kernel = 5
        mode = "bilinear"

        [[case]]
        id = "a"
        method = "transposed"

        [[case]]
        id = "b"
        method = "interpolate"

        [[case]]
        id = "c"
        method = "resize_conv"
        kernel = 3
        """
    )
    a, b, c = load_cases([path])
    assert a.size == b.size == (10, 10)
    assert a.stages[0].params["kernel"] == 5
    assert "kernel" not in b.stages[0].params
    assert b.stages[0].params["mode"] == "bilinear"
    assert c.stages[0].params["kernel"] == 3  # the case's own value wins
    assert c.stages[0].params["mode"] == "bilinear"


def test_defaults_lists_expand_too(write_cases):
    path = write_cases(
        """
        [defaults]
        scale = [2, 4]
        [[case]]
        id = "i"
        method = "interpolate"
        """
    )
    assert [c.id for c in load_cases([path])] == ["i[scale=2]", "i[scale=4]"]


def test_unused_default_is_an_error(write_cases):
    path = write_cases(
        """
        [defaults]
        hidden = 8
        [[case]]
        id = "i"
        method = "interpolate"
        """
    )
    assert problems(path) == [
        f"{path}: defaults: hidden: used by no case (no case's method takes it)"
    ]


def test_transposed_stride_and_scale_default_to_each_other(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "by-stride"
        method = "transposed"
        stride = 3
        [[case]]
        id = "by-scale"
        method = "transposed"
        scale = 4
        [[case]]
        id = "neither"
        method = "transposed"
        """
    )
    by_stride, by_scale, neither = (c.stages[0].params for c in load_cases([path]))
    assert (by_stride["stride"], by_stride["scale"]) == (3, 3)
    assert (by_scale["stride"], by_scale["scale"]) == (4, 4)
    assert (neither["stride"], neither["scale"]) == (2, 2)


def test_staged_case_inherits_case_level_init(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "dec"
        size = 8
        init = "ones"
        [[case.stage]]
        method = "resize_conv"
        [[case.stage]]
        method = "interpolate"
        [[case.stage]]
        method = "transposed"
        init = "bilinear"
        kernel = 4
        """
    )
    (case,) = load_cases([path])
    assert [s.params.get("init") for s in case.stages] == ["ones", None, "bilinear"]
    assert case.output_shape == (1, 1, 64, 64)
    assert case.method == "resize_conv>interpolate>transposed"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'method = "transposed"\nkernal = 3',
            "case 'x': kernal: unknown key; allowed: align_corners,",
        ),
        (
            'method = "interpolate"\nkernel = 3',
            "case 'x': kernel: does not apply to method 'interpolate'",
        ),
        (
            'method = "warp"',
            "case 'x': method: unknown method 'warp'; registered: anyup, bilinear_additive,",
        ),
        ('method = "transposed"\nkernel = "3"', "case 'x': kernel: must be an integer, got '3'"),
        ('method = "transposed"\nkernel = 2.5', "case 'x': kernel: must be an integer, got 2.5"),
        ('method = "transposed"\nkernel = true', "case 'x': kernel: must be an integer, got True"),
        ('method = "transposed"\nkernel = 0', "case 'x': kernel: must be >= 1, got 0"),
        ('method = "transposed"\nsize = 0', "case 'x': size: must be >= 1, got 0"),
        (
            'method = "transposed"\nsize = "0x4"',
            "case 'x': size: height and width must be positive",
        ),
        ('method = "transposed"\nchannels = -1', "case 'x': channels: must be >= 1, got -1"),
        (
            'method = "transposed"\nstride = 2\nscale = 3',
            "case 'x': scale: scale = 3 disagrees with stride = 2",
        ),
        (
            'method = "interpolate"\nmode = "nearest"\nalign_corners = true',
            "case 'x': align_corners: applies only to mode bilinear or bicubic",
        ),
        (
            'method = "interpolate"\nmode = "area"',
            "case 'x': mode: must be one of nearest, bilinear, bicubic; got 'area'",
        ),
        (
            'method = "pixel_shuffle"\ninit = "bilinear"',
            "case 'x': init: must be one of random, ones, icnr, trained; got 'bilinear'",
        ),
        (
            'method = "transposed"\nkernel = []',
            "case 'x': kernel: an empty list expands into no cases",
        ),
        (
            'method = "transposed"\ntolerance = { atol = 1e-3 }',
            "case 'x': tolerance.reason: an override must say why",
        ),
        (
            'method = "transposed"\ntolerance = { atol = -1, reason = "r" }',
            "case 'x': tolerance.atol: must be >= 0, got -1",
        ),
        (
            'method = "transposed"\noutput_padding = 1',
            "case 'x': output_padding: give padding too, or neither",
        ),
    ],
)
def test_each_problem_is_one_line_naming_file_case_and_key(write_cases, body, expected):
    path = write_cases(f'[[case]]\nid = "x"\n{body}\n')
    lines = problems(path)
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: {expected}"), lines[0]


def test_impossible_geometry_gives_the_formula_result(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "tiny"
        method = "transposed"
        kernel = 3
        stride = 1
        padding = 4
        size = 3
        """
    )
    assert problems(path) == [
        f"{path}: case 'tiny': padding: transposed output = (3 - 1)·1 - 2·4 + 3 + 0 = -3 < 1"
    ]


def test_staged_errors_name_the_stage(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "dec"
        size = 2
        [[case.stage]]
        method = "resize_conv"
        kernel = 9
        padding = 0
        [[case.stage]]
        method = "interpolate"
        kernel = 3
        """
    )
    (line,) = problems(path)
    assert line == (
        f"{path}: case 'dec': stage[1].kernel: does not apply to method 'interpolate' "
        "(it uses: scale, mode, align_corners)"
    )


def test_staged_case_refuses_method_keys_at_case_level(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "dec"
        kernel = 3
        [[case.stage]]
        method = "resize_conv"
        """
    )
    assert problems(path) == [
        f"{path}: case 'dec': kernel: in a staged case this key belongs in a [[case.stage]] table"
    ]


def test_every_problem_is_reported_at_once(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "a"
        method = "transposed"
        kernel = 0
        [[case]]
        method = "interpolate"
        [[case]]
        id = "c"
        """
    )
    assert problems(path) == [
        f"{path}: case 'a': kernel: must be >= 1, got 0",
        f"{path}: case '#2': id: missing or empty: every [[case]] needs a string id",
        f"{path}: case 'c': method: missing: give method = ... or [[case.stage]] tables",
    ]


def test_duplicate_ids_across_files(write_cases):
    first = write_cases('[[case]]\nid = "same"\nmethod = "interpolate"\n', "one.toml")
    second = write_cases('[[case]]\nid = "same"\nmethod = "transposed"\n', "two.toml")
    with pytest.raises(UsageError) as err:
        load_cases([first, second])
    assert err.value.lines == [f"{second}: case 'same': id: also used in {first}"]


def test_not_toml(write_cases):
    path = write_cases('[[case]]\nid = "x\n')
    (line,) = problems(path)
    assert line.startswith(f"{path}: not valid TOML: ")


def test_unknown_top_level_and_missing_file(write_cases, tmp_path):
    path = write_cases('[[cases]]\nid = "x"\n')
    assert f"{path}: cases: unknown top-level key; allowed: case, defaults" in problems(path)
    with pytest.raises(UsageError) as err:
        load_cases([tmp_path / "nope.toml"])
    assert err.value.lines == [f"{tmp_path / 'nope.toml'}: no such case file or folder"]


def test_default_case_files_load():
    cases = load_cases(["cases"])
    ids = {c.id for c in cases}
    assert "lecture-transposed-447" in ids
    assert sum(c.id.startswith("odena-transposed[") for c in cases) == 10
    assert sum(c.id.startswith("odena-resize-conv[") for c in cases) == 10
    assert len(ids) == len(cases)


def test_the_gate_and_timing_case_files_load():
    """The gate's cases (six layers, one int8 and one fp16 variant, two guided layers: one guide
    of each kind), and the latency study's (small, large, the injected slowdown)."""
    gate = load_cases(["cases/gate"])
    timing = load_cases(["cases/timing"])
    assert len(gate) == 10 and len(timing) == 11
    assert sorted(c.precision for c in gate) == ["fp16"] + ["fp32"] * 8 + ["int8"]
    assert sorted(c.guide.kind for c in gate if c.guide) == ["encoder", "image"]
    assert {c.id for c in gate}.isdisjoint(c.id for c in timing)
    (slowdown,) = [c for c in timing if c.id == "slowdown"]
    assert slowdown.gate["slowdown"] == 1.0


def test_factory_case_builds_the_named_module(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "mine"
        factory = "factories:repeated_resize_conv"
        scale = 2
        repeat = 2
        size = 8
        channels = 3
        """
    )
    (case,) = load_cases([path])
    assert case.method == "factory"
    assert case.output_shape == (1, 3, 16, 16)  # measured by running the module
    assert case.build()(case.make_input()).shape == (1, 3, 16, 16)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('factory = "nowhere.at_all:make"', "factory: cannot import 'nowhere.at_all'"),
        ('factory = "factories:missing"', "factory: 'factories' has no callable 'missing'"),
        ('factory = "no-colon"', "factory: must be 'package.module:function', got 'no-colon'"),
        (
            'factory = "factories:repeated_resize_conv"\nwidth = 3',
            "factory: factories:repeated_resize_conv does not take these keys:",
        ),
        (
            'factory = "factories:repeated_resize_conv"\nmethod = "transposed"',
            "method: give either",
        ),
    ],
)
def test_factory_errors_are_one_line(write_cases, body, expected):
    path = write_cases(f'[[case]]\nid = "x"\n{body}\n')
    (line,) = problems(path)
    assert line.startswith(f"{path}: case 'x': {expected}"), line


BROKEN_FACTORIES = [
    ("raises", "factories:raises(channels=4, scale=2) raised RuntimeError: this factory is broken"),
    ("not_a_module", "factories:not_a_module returned int, not a torch.nn.Module"),
    (
        "doubles_channels",
        "factories:doubles_channels: on a 1×4×8×8 input its module returned 1×8×16×16, "
        "not 1×4×16×16",
    ),
    (
        "wrong_scale",
        "factories:wrong_scale: on a 1×4×8×8 input its module returned 1×4×24×24, not 1×4×16×16",
    ),
    ("returns_nan", "factories:returns_nan: on a 1×4×8×8 input its module returned 1024 NaN"),
    ("returns_inf", "factories:returns_inf: on a 1×4×8×8 input its module returned 0 NaN and 1024"),
    ("fails_on_input", "factories:fails_on_input: its module failed on a 1×4×8×8 input: Runtime"),
    ("returns_tuple", "factories:returns_tuple: on a 1×4×8×8 input its module returned tuple"),
]


@pytest.mark.parametrize(("function", "expected"), BROKEN_FACTORIES)
def test_a_broken_factory_is_one_line_at_load_time(write_cases, function, expected):
    """Probed once with the case's own channels and size (``Factory.probe``), before any work."""
    path = write_cases(
        f'[[case]]\nid = "x"\nfactory = "factories:{function}"\nchannels = 4\nsize = 8\n'
    )
    (line,) = problems(path)
    assert line.startswith(f"{path}: case 'x': factory: {expected}"), line


def test_a_factory_slower_than_the_probe_limit_is_refused(write_cases, monkeypatch):
    from suite.methods import factory

    monkeypatch.setattr(factory, "PROBE_LIMIT_S", 0.1)
    path = write_cases('[[case]]\nid = "x"\nfactory = "factories:slow_to_build"\nsize = 8\n')
    (line,) = problems(path)
    assert "to build and run once (limit 0.1 s)" in line, line


def test_a_factory_case_takes_defaults_its_function_takes(write_cases):
    """``[defaults] scale`` (and any key the function takes) fills a file of factory cases."""
    path = write_cases(
        """
        [defaults]
        scale = 4
        kernel = 5
        [[case]]
        id = "sd"
        factory = "factories:nearest_conv_bias"
        size = 8
        """
    )
    (case,) = load_cases([path])
    assert case.stages[0].params["scale"] == 4 and case.stages[0].params["kernel"] == 5
    assert case.output_shape == (1, 1, 32, 32)


def test_a_default_a_factory_does_not_take_is_still_refused(write_cases):
    path = write_cases(
        '[defaults]\nmode = "bilinear"\n'
        '[[case]]\nid = "sd"\nfactory = "factories:nearest_conv_bias"\n'
    )
    assert problems(path) == [
        f"{path}: defaults: mode: used by no case (no case's method takes it)"
    ]


def test_a_default_only_a_factory_of_the_file_takes_is_accepted(write_cases):
    path = write_cases(
        '[defaults]\nrepeat = 3\n[[case]]\nid = "r"\nfactory = "factories:repeated_resize_conv"\n'
        "size = 8\n"
    )
    (case,) = load_cases([path])
    assert case.stages[0].params["repeat"] == 3


def test_gate_override_needs_a_reason(write_cases):
    path = write_cases('[[case]]\nid = "x"\nmethod = "interpolate"\ngate = { min_effect = 0.5 }\n')
    assert problems(path) == [
        f"{path}: case 'x': gate.reason: an override must say why (reason = '...')"
    ]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('{ slowdown = 0.5, reason = "r" }', "gate.slowdown: must be in (1, 100], got 0.5"),
        ('{ slowdown = "2", reason = "r" }', "gate.slowdown: must be a number, got '2'"),
        ('{ min_effect = 0, reason = "r" }', "gate.min_effect: must be in (0, inf], got 0"),
        ('{ reason = "r" }', "gate: give min_effect, slowdown or both"),
        ('{ speedup = 2, reason = "r" }', "gate.speedup: unknown key; allowed: min_effect,"),
    ],
)
def test_gate_table_errors_are_one_line(write_cases, table, expected):
    path = write_cases(f'[[case]]\nid = "x"\nmethod = "interpolate"\ngate = {table}\n')
    (line,) = problems(path)
    assert line.startswith(f"{path}: case 'x': {expected}"), line


def test_an_injected_slowdown_of_one_is_the_plain_case(write_cases):
    path = write_cases(
        '[[case]]\nid = "x"\nmethod = "interpolate"\ngate = { slowdown = 1, reason = "study" }\n'
    )
    (case,) = load_cases([path])
    assert case.gate == {"slowdown": 1.0, "reason": "study"}
