"""Export: the cache, the checker, the op inventory and its numerics attributes."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from stage_cases import one_stage_case

from suite.case import Case
from suite.export import ExportError, cache_key, export_case

pytestmark = pytest.mark.export


case_of = partial(one_stage_case, size=6, channels=2, case_id="e")


def export(case: Case, cache):
    return export_case(case, case.build(), case.make_input(), cache)


def test_second_export_is_served_from_the_cache(tmp_path):
    case = case_of("transposed", kernel=4)
    first = export(case, tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = export(case, tmp_path)
    assert (first.cached, second.cached) == (False, True)
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime
    assert list(tmp_path.iterdir()) == [first.path]  # no partial files left behind


def test_cache_key_changes_with_weights_and_geometry():
    base = case_of("transposed", kernel=4)
    assert cache_key(base, base.build()) == cache_key(base, base.build())
    reseeded = case_of("transposed", kernel=4, seed=1)
    assert cache_key(reseeded, reseeded.build()) != cache_key(base, base.build())
    other = case_of("transposed", kernel=3)
    assert cache_key(other, other.build()) != cache_key(base, base.build())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"mode": "nearest"},
            {
                "op": "Resize",
                "mode": "nearest",
                "coordinate_transformation_mode": "asymmetric",
                "nearest_mode": "floor",
            },
        ),
        (
            {"mode": "bilinear", "align_corners": True},
            {"op": "Resize", "mode": "linear", "coordinate_transformation_mode": "align_corners"},
        ),
        (
            {"mode": "bilinear", "align_corners": False},
            {"op": "Resize", "mode": "linear", "coordinate_transformation_mode": "half_pixel"},
        ),
        (
            {"mode": "bicubic"},
            {"op": "Resize", "mode": "cubic", "cubic_coeff_a": -0.75},
        ),
    ],
)
def test_resize_numerics_attributes(params, expected, export_cache):
    exported = export(case_of("interpolate", **params), export_cache)
    assert exported.ops == {"Resize": 1}
    (record,) = exported.numerics
    assert expected.items() <= record.items()


def test_pixel_shuffle_exports_depth_to_space_crd(export_cache):
    exported = export(case_of("pixel_shuffle", scale=3), export_cache)
    assert exported.ops == {"Conv": 1, "DepthToSpace": 1}
    assert {"op": "DepthToSpace", "mode": "CRD", "blocksize": 3} in exported.numerics


def test_transposed_records_its_arithmetic(export_cache):
    exported = export(case_of("transposed", kernel=3, stride=2), export_cache)
    (record,) = exported.numerics
    assert record["strides"] == [2, 2]
    assert record["pads"] == [1, 1, 1, 1]
    assert record["output_padding"] == [1, 1]


def test_exporter_failure_is_an_export_error_with_one_line(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no decomposition for aten::frobnicate\nlong trace...")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(
        ExportError, match=r"^torch.onnx.export \(dynamo\): no decomposition for aten::frobnicate$"
    ):
        export(case_of("transposed", kernel=5), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_torchlib_listing_is_read_once_and_exports_the_same_model():
    import importlib

    from suite.exporters import TORCHLIB_APIS, get_exporter, memoise_torchlib_ops
    from suite.quiet import captured_output

    apis = importlib.import_module(TORCHLIB_APIS)
    listed = getattr(apis.get_torchlib_ops, "__wrapped__", apis.get_torchlib_ops)
    case = case_of("transposed", kernel=4)
    model, example = case.build(), case.make_input()
    assert memoise_torchlib_ops()  # this onnxscript lays out the API torch 2.13 reads
    with captured_output():
        first = get_exporter("dynamo").export(model, (example,), 20)
        hits = apis.get_torchlib_ops.cache_info().hits
        second = get_exporter("dynamo").export(model, (example,), 20)
    assert apis.get_torchlib_ops.cache_info().hits == hits + 1
    assert apis.get_torchlib_ops() == listed()  # the same functions, in the same order
    assert first.SerializeToString() == second.SerializeToString()
