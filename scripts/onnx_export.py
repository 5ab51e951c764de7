"""The one export step of the fixture scripts: PyTorch's exporter, the ONNX checker, and the op types the export must contain."""

from __future__ import annotations

import sys

import onnx
import torch
from torch import nn


def export_checked(model: nn.Module, path: str, shape: list[int], opset: int, training, must_have: list[str]) -> onnx.ModelProto:
    """Export `model` (batch 1, static shape) to `path`, check it, and exit if an expected op type is missing."""
    torch.onnx.export(
        model,
        (torch.zeros(shape),),
        path,
        opset_version=opset,
        input_names=["input"],
        output_names=["output"],
        training=training,
        # Folding is for EVAL exports; torch warns against it with PRESERVE (it could alter parameters).
        do_constant_folding=training == torch.onnx.TrainingMode.EVAL,
    )
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    op_types = [node.op_type for node in proto.graph.node]
    for op in must_have:
        if op not in op_types:
            sys.exit(f"{path}: expected a {op} node, the exporter emitted {op_types}")
    return proto
