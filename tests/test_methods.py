"""Every registered method, parametrized from the registry: build, geometry, seeding, export,
onnxruntime and the ONNX reference evaluator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.case import Case
from suite.export import export_case
from suite.methods import Stage, create_upsampler, get_method, list_methods, register
from suite.methods.base import Method
from suite.parity import DEFAULT, compare
from suite.runtimes import Prepared, get_runtime

METHODS = list_methods()
#: Keys a method needs beyond its defaults, to be built in these tests.
REQUIRED_KEYS = {
    "factory": {"factory": "factories:repeated_resize_conv"},
    # small_case has 3 channels: groups and reductions must divide them
    "bilinear_additive": {"reduction": 3},
    "dysample": {"groups": 3},
}
#: Methods whose papers' layers carry a bias (every other learned layer here has none).
BIASED = {"carafe", "dysample"}
METHOD_INITS = [(m, init) for m in METHODS for init in get_method(m).inits or (None,)]


def small_case(method: str, channels: int = 3, size: int = 7, seed: int = 0, **params) -> Case:
    stage = Stage(method, get_method(method).resolve({**REQUIRED_KEYS.get(method, {}), **params}))
    return Case(
        id=f"t-{method}",
        file="test",
        stages=(stage,),
        size=(size, size),
        channels=channels,
        seed=seed,
    )


@pytest.mark.parametrize(("method", "init"), METHOD_INITS)
@pytest.mark.parametrize("scale", [2, 3])
def test_output_shape_matches_declared_geometry(method, init, scale):
    params = {"scale": scale} | ({"init": init} if init else {})
    if init == "bilinear":
        params["kernel"] = 2 * scale  # the FCN kernel for this scale
    case = small_case(method, **params)
    out = case.build()(case.make_input())
    assert tuple(out.shape) == case.output_shape
    assert case.output_shape[-2:] == (7 * scale, 7 * scale)


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_weights_other_seed_other_weights(method):
    first, second, other = (small_case(method, seed=s).build() for s in (5, 5, 6))
    pairs = list(zip(first.parameters(), second.parameters(), other.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b, _ in pairs)
    # Every drawn tensor changes with the seed; a reference init's zero biases do not.
    drawn = [(a, c) for a, _, c in pairs if a.abs().sum() > 0]
    assert all(not torch.equal(a, c) for a, c in drawn)


@pytest.mark.export
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("runtime", ["ort-cpu", "onnx-reference"])
def test_export_runs_and_matches_torch(method, runtime, export_cache):
    case = small_case(method)
    model, example = case.build(), case.make_input()
    exported = export_case(case, model, example, export_cache)
    assert exported.output_shape == list(case.output_shape)
    prepared = Prepared(model, example, exported.path, case.output_shape, threads=1)
    reference = get_runtime("torch-cpu").load(prepared).output()
    output = get_runtime(runtime).load(prepared).output()
    parity = compare(output, reference, DEFAULT)
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


def test_interpolation_has_no_weights_and_learned_layers_no_bias():
    assert list(small_case("interpolate").build().parameters()) == []
    for method in set(METHODS) - BIASED:
        for module in small_case(method).build().modules():
            assert getattr(module, "bias", None) is None
    for method in BIASED:
        assert any(
            getattr(m, "bias", None) is not None for m in small_case(method).build().modules()
        )


@pytest.mark.parametrize("method", ["resize_conv", "bilinear_mix"])
def test_constant_input_gives_constant_interior(method):
    """Interpolation spreads every input pixel evenly, so a flat field stays flat (no padding)."""
    case = small_case(method, channels=2, size=12, init="random")
    out = case.build()(torch.ones(case.input_shape)).detach().numpy()
    interior = out[..., 4:-4, 4:-4]
    assert np.ptp(interior, axis=(-1, -2)).max() < 1e-5
