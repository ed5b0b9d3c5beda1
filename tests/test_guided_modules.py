"""The guided upsamplers (suite/guided): parameter counts against the authors' code, geometry
and seeding, export to ONNX with two inputs run on onnxruntime and onnx's reference evaluator
against torch, and the shifted-slice local weighted sums against a slow unfold-based oracle of
the reference CUDA kernels."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from onnx.reference import ReferenceEvaluator

from suite.exporters import OPSET, memoise_torchlib_ops
from suite.guided import GUIDED, fade, local, parameter_count, sapa
from suite.quiet import captured_output

#: Parameter counts read from each method's reference code (the lead's reading agrees), at the
#: configuration given as (channels, guide channels, scale). FADE: poppinace/fade
#: FADE_L2H.py @ e4de4dbc, FADE(64). SAPA-B: tiny-smart/sapa sapa_base.py @ a5acd520,
#: SAPA(64). JBU: mhamilton723/FeatUp featup/upsamplers.py @ 6b5a6c0e, JBUStack(64) (four ×2
#: layers: ×16). AnyUp: wimmerth/anyup anyup/model.py @ 351807a9, AnyUp() (its count is the
#: same for any feature channels).
REFERENCE_COUNTS = {
    "fade": ("poppinace/fade FADE_L2H.py", (64, 64, 2), 22_746),
    "sapa": ("tiny-smart/sapa sapa_base.py", (64, 64, 2), 4_416),
    "jbu": ("mhamilton723/FeatUp featup/upsamplers.py", (64, 3, 16), 29_092),
    "anyup": ("wimmerth/anyup anyup/model.py", (64, 3, 2), 878_080),
}
#: the smallest channel counts each method takes (SAPA's GroupNorm(32) needs multiples of 32)
SMALL_CHANNELS = {"fade": 16, "sapa": 32, "jbu": 16, "anyup": 16}
#: an ONNX runtime against torch: the largest difference over the largest |torch output|
RELATIVE = 1e-4


def small(name: str, scale: int = 2, size: int = 8, seed: int = 0):
    """The module at its small size and a seeded input pair (features, guide)."""
    method = GUIDED[name]
    channels = SMALL_CHANNELS[name]
    guide_channels = channels if method.guide == "encoder" else 3
    module = method.build(channels, guide_channels, scale, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(2, channels, size, size, generator=generator)
    guide = torch.randn(2, guide_channels, size * scale, size * scale, generator=generator)
    return module, x, guide


@pytest.mark.parametrize("name", sorted(REFERENCE_COUNTS))
def test_parameter_count_equals_the_authors_code(name):
    source, (channels, guide_channels, scale), expected = REFERENCE_COUNTS[name]
    reference = GUIDED[name].reference
    assert source.split()[0] == reference.repository
    assert (reference.channels, reference.guide_channels, reference.scale) == (
        channels,
        guide_channels,
        scale,
    )
    assert reference.params == expected
    module = GUIDED[name].build(channels, guide_channels, scale, 0)
    assert parameter_count(module) == expected, source


def test_registry_covers_every_method_with_a_source():
    assert set(GUIDED) == set(REFERENCE_COUNTS)
    for method in GUIDED.values():
        assert method.guide in ("encoder", "image")
        assert len(method.reference.commit) == 40 and method.defaults


@pytest.mark.parametrize("name", sorted(GUIDED))
@pytest.mark.parametrize("scale", [2, 4])
def test_output_shape_and_seeding(name, scale):
    module, x, guide = small(name, scale, size=6)
    again, _, _ = small(name, scale, size=6)
    other, _, _ = small(name, scale, size=6, seed=1)
    with torch.no_grad():
        out = module(x, guide)
        assert torch.equal(out, again(x, guide))
        assert not torch.equal(out, other(x, guide))
    assert out.shape == (2, x.shape[1], 6 * scale, 6 * scale)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("name", "channels", "guide_channels", "scale", "says"),
    [
        ("fade", 16, 32, 2, "must be equal"),
        ("sapa", 48, 64, 2, "multiple of 32"),
        ("jbu", 16, 3, 6, "power of two"),
    ],
)
def test_refuses_what_the_method_cannot_take(name, channels, guide_channels, scale, says):
    with pytest.raises(ValueError, match=says):
        GUIDED[name].build(channels, guide_channels, scale, 0)


def export(module: torch.nn.Module, x: torch.Tensor, guide: torch.Tensor) -> onnx.ModelProto:
    """Export with the dynamo exporter at the suite's opset (its chatter held back, as
    suite/export.py does) and check the model fully."""
    memoise_torchlib_ops()
    with captured_output():
        program = torch.onnx.export(
            module,
            (x, guide),
            dynamo=True,
            opset_version=OPSET,
            input_names=["input", "guide"],
            output_names=["output"],
            external_data=False,
            verbose=False,
        )
    onnx.checker.check_model(program.model_proto, full_check=True)
    return program.model_proto


#: where the exported model runs: onnxruntime's CPU provider and onnx's reference evaluator
EVALUATORS = {
    "ort-cpu": lambda proto: ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    ),
    "onnx-reference": ReferenceEvaluator,
}


@pytest.mark.export
@pytest.mark.parametrize("name", sorted(GUIDED))
def test_exports_and_runs_as_in_torch(name):
    module, x, guide = small(name)
    with torch.no_grad():
        expected = module(x, guide).numpy()
    proto = export(module, x, guide)
    for runtime, load in EVALUATORS.items():
        got = load(proto).run(None, {"input": x.numpy(), "guide": guide.numpy()})[0]
        assert got.shape == expected.shape == (2, SMALL_CHANNELS[name], 16, 16), runtime
        error = np.abs(got - expected).max()
        assert error <= RELATIVE * np.abs(expected).max(), (runtime, error)


def neighbourhoods(x: torch.Tensor, kernel: int, scale: int, padding: str) -> torch.Tensor:
    """(N, C, k², s·h, s·w): every output pixel's k × k window of its input pixel, by unfold
    and repeat: the oracle materialises what the shifted slices avoid."""
    batch, channels, height, width = x.shape
    reach = kernel // 2
    padded = F.pad(x, (reach,) * 4, mode=local.PADDING[padding])
    windows = F.unfold(padded, kernel).reshape(batch, channels, kernel * kernel, height, width)
    return windows.repeat_interleave(scale, dim=3).repeat_interleave(scale, dim=4)


def slow_reassemble(x, weights, kernel, scale, padding="zeros"):
    return torch.einsum("nctij,ntij->ncij", neighbourhoods(x, kernel, scale, padding), weights)


def slow_affinity(query, key, kernel, scale, padding="zeros"):
    return torch.einsum("netij,neij->ntij", neighbourhoods(key, kernel, scale, padding), query)


@pytest.mark.parametrize(
    ("kernel", "scale", "padding"),
    [(5, 2, "zeros"), (3, 4, "zeros"), (5, 3, "zeros"), (7, 1, "reflect"), (3, 2, "reflect")],
)
def test_local_sums_equal_the_unfold_oracle(kernel, scale, padding):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, 4, 5, 7, generator=generator)
    weights = torch.randn(2, kernel * kernel, 5 * scale, 7 * scale, generator=generator)
    query = torch.randn(2, 4, 5 * scale, 7 * scale, generator=generator)
    fast = local.reassemble(x, weights, kernel, scale, padding)
    torch.testing.assert_close(fast, slow_reassemble(x, weights, kernel, scale, padding))
    fast = local.affinity(query, x, kernel, scale, padding)
    torch.testing.assert_close(fast, slow_affinity(query, x, kernel, scale, padding))


def test_tap_order_is_row_major_like_the_cuda_kernels():
    """Tap t = dy·k + dx reads (i + dy - r, j + dx - r): a one-hot kernel at tap 1 (dy 0,
    dx 1) on a 3 × 3 window copies the pixel above, zero on the first row."""
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    weights = F.one_hot(torch.full((1, 3, 4), 1), 9).permute(0, 3, 1, 2).float()
    expected = torch.tensor([[0.0, 0, 0, 0], [0, 1, 2, 3], [4, 5, 6, 7]])
    torch.testing.assert_close(local.reassemble(x, weights, 3, 1)[0, 0], expected)


@pytest.mark.parametrize(("name", "patched"), [("fade", fade), ("sapa", sapa)])
@pytest.mark.parametrize("scale", [2, 4])
def test_module_equals_its_unfold_oracle(name, patched, scale, monkeypatch):
    """The whole module, with its local sums swapped for the oracle's, gives the same output."""
    module, x, guide = small(name, scale, size=5)
    with torch.no_grad():
        fast = module(x, guide)
        monkeypatch.setattr(patched, "reassemble", slow_reassemble)
        monkeypatch.setattr(patched, "affinity", slow_affinity, raising=False)
        slow = module(x, guide)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
