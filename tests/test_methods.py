"""Every registered method, parametrized from the registry: build, geometry, seeding, export,
and parity on every registered runtime (``runtime``: tests/conftest.py, ``--device``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from suite import training
from suite.case import Case
from suite.export import export_case
from suite.methods import Stage, create_upsampler, get_method, list_methods, register
from suite.methods.base import Method
from suite.parity import compare
from suite.parity_bound import bound_for
from suite.runtimes import REFERENCE, Prepared, RuntimeSkipped, get_runtime

METHODS = list_methods()
METHOD_INITS = [(m, init) for m in METHODS for init in get_method(m).inits or (None,)]


def small_case(
    method: str, channels: int | None = None, size: int = 7, seed: int = 0, **params
) -> Case:
    """A small case of ``method``: 3 channels, or as many as its example needs (SAPA's 32)."""
    spec = get_method(method)
    stage = Stage(method, spec.resolve({**spec.example, **params}))
    return Case(
        id=f"t-{method}",
        file="test",
        stages=(stage,),
        size=(size, size),
        channels=channels or spec.example_channels,
        seed=seed,
    )


def scales_of(method: str) -> list[int]:
    """Two scales the method takes: 2 and 3, or 2 and 4 for the guided (powers of two)."""
    return [2, 4] if get_method(method).takes_guide else [2, 3]


@pytest.mark.parametrize(
    ("method", "init", "scale"),
    [(m, init, scale) for m, init in METHOD_INITS for scale in scales_of(m)],
)
def test_output_shape_matches_declared_geometry(method, init, scale, monkeypatch):
    """A trained init fits for two steps here: the fit's length leaves the geometry as it is,
    and the fit itself is tested on its own (tests/test_analysis.py, test_guided_cases.py);
    AnyUp's full fit at x4 took 172 s of the suite's time."""
    monkeypatch.setattr(training, "STEPS", 2)
    params = {"scale": scale} | ({"init": init} if init else {})
    if init == "bilinear":
        params["kernel"] = 2 * scale  # the FCN kernel for this scale
    case = small_case(method, **params)
    out = case.build()(*case.make_inputs())
    assert tuple(out.shape) == case.output_shape
    assert case.output_shape[-2:] == (7 * scale, 7 * scale)
    if case.guide is not None:  # the guide is at the output size, on its own channels
        assert case.make_guide().shape == (1, case.guide.channels, 7 * scale, 7 * scale)


#: Parameters a method's reference initialises by a formula, not a draw.
FORMULA = {"anyup": ("rope_frequencies",)}


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_weights_other_seed_other_weights(method):
    first, second, other = (small_case(method, seed=s).build() for s in (5, 5, 6))
    pairs = list(zip(first.parameters(), second.parameters(), other.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b, _ in pairs)
    # Every drawn tensor changes with the seed; a reference init's constants do not (zero
    # biases, unit norm weights), nor what it computes by a formula (AnyUp's RoPE ladder).
    formula = {id(p) for n, p in first.named_parameters() if n in FORMULA.get(method, ())}
    drawn = [
        (a, c)
        for a, _, c in pairs
        if a.abs().sum() > 0 and not bool((a == a.flatten()[0]).all()) and id(a) not in formula
    ]
    if any(p.numel() for p in first.parameters()):
        assert drawn, f"{method}: no drawn tensor to compare across seeds"
    assert all(not torch.equal(a, c) for a, c in drawn)


@pytest.fixture(scope="module")
def exported(export_cache) -> Callable[[str], tuple[Prepared, np.ndarray]]:
    """exported(method) -> its small case, built and exported once for every runtime's test, and
    the reference runtime's output on it."""
    done: dict[str, tuple[Prepared, np.ndarray]] = {}

    def export(method: str) -> tuple[Prepared, np.ndarray]:
        if method not in done:
            case = small_case(method)
            model, (example, *guide) = case.build(), case.make_inputs()
            onnx = export_case(case, model, (example, *guide), export_cache)
            assert onnx.output_shape == list(case.output_shape)
            prepared = Prepared(
                model, example, onnx.path, case.output_shape, 1, guide=guide[0] if guide else None
            )
            done[method] = prepared, get_runtime(REFERENCE).load(prepared).output()
        return done[method]

    return export


@pytest.mark.export
@pytest.mark.parametrize("method", METHODS)
def test_every_runtime_runs_the_export_and_matches_the_reference(method, runtime, exported):
    """Within the runtime's own parity bound (``Runtime.parity_bound``, float32's by default);
    a runtime that will not run the case here skips with its reason, as a run records it."""
    prepared, reference = exported(method)
    try:
        output = get_runtime(runtime).load(prepared).output()
    except RuntimeSkipped as skipped:
        pytest.skip(f"{runtime}: {skipped}")
    assert output.shape == prepared.output_shape and output.dtype == np.float32
    parity = compare(output, reference, bound_for(runtime, None))
    assert parity["within_tolerance"], parity


def test_create_upsampler_like_a_case_file():
    model, stage = create_upsampler("transposed", channels=2, kernel=4, stride=2)
    assert stage.params["padding"] == 1 and stage.params["output_padding"] == 0
    assert model(torch.zeros(1, 2, 5, 5)).shape == (1, 2, 10, 10)


def test_duplicate_registration_is_refused():
    class Again(Method):
        name = "transposed"

    with pytest.raises(ValueError, match="registered twice"):
        register(Again)


def test_interpolation_has_no_weights():
    assert list(small_case("interpolate").build().parameters()) == []


@pytest.mark.parametrize("method", METHODS)
def test_a_learned_layer_has_a_bias_exactly_where_its_method_declares_one(method):
    """``Method.has_bias`` is what the paper's reference code has; a method without weights has
    nothing to declare, and says so by having no parameters at all."""
    modules = list(small_case(method).build().modules())
    learned = [m for m in modules if any(p.numel() for p in m.parameters(recurse=False))]
    if not learned:
        assert not get_method(method).has_bias
        assert not list(small_case(method).build().parameters())
        return
    biases = [getattr(m, "bias", None) is not None for m in learned]
    if get_method(method).has_bias:
        assert any(biases), f"{method} declares a bias, none of its layers has one"
    else:
        assert not any(biases), f"{method} declares no bias, a layer has one"


#: Methods past the palette's ten colours: the report gives each a palette colour free in its run.
UNCOLOURED = {"fade", "sapa", "jbu", "anyup"}


def test_every_method_declares_a_distinct_colour_and_an_order():
    colours = {name: get_method(name).colour for name in METHODS if name not in UNCOLOURED}
    assert all(isinstance(c, str) and len(c) == 7 and c.startswith("#") for c in colours.values())
    assert len(set(colours.values())) == len(colours), colours
    assert all(get_method(name).colour is None for name in UNCOLOURED)
    assert all(isinstance(get_method(name).order, int) for name in METHODS)


def test_the_guided_run_gets_a_distinct_palette_colour_for_every_method():
    from suite.casefile import load_cases
    from suite.report.style import PALETTE, distinct_colours

    used = {s.method for case in load_cases(["cases/guided.toml"]) for s in case.stages}
    given = distinct_colours({name: get_method(name).colour for name in sorted(used)})
    assert set(given.values()) <= set(PALETTE) and len(set(given.values())) == len(used)


def test_every_module_of_the_methods_package_is_registered():
    """Discovery, not a list: each module beside the registry's own registers a method."""
    import pkgutil

    import suite.methods

    modules = {m.name for m in pkgutil.iter_modules(suite.methods.__path__)}
    modules -= suite.methods.NOT_METHOD_MODULES
    registering = {get_method(name).__module__.rsplit(".", 1)[-1] for name in METHODS}
    assert modules == registering


@pytest.mark.parametrize("method", ["resize_conv", "bilinear_mix"])
def test_constant_input_gives_constant_interior(method):
    """Interpolation spreads every input pixel evenly, so a flat field stays flat (no padding)."""
    case = small_case(method, channels=2, size=12, init="random")
    out = case.build()(torch.ones(case.input_shape)).detach().numpy()
    interior = out[..., 4:-4, 4:-4]
    assert np.ptp(interior, axis=(-1, -2)).max() < 1e-5
