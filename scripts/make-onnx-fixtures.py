#!/usr/bin/python3
"""Build the tiny ONNX test models in test/fixtures/models/ and their expected outputs.

Requirements (Debian bookworm packages, installed with apt-get, for the system Python /usr/bin/python3):
    python3-torch 1.13.1 (reports 1.13.0a0) and python3-onnx 1.12.0.
    apt-get install -y --no-install-recommends python3-torch python3-onnx

Run from the repository root:
    /usr/bin/python3 scripts/make-onnx-fixtures.py

Export settings: ONNX opset 13 (torch 1.13 supports 7..17, default 14; 13 is the opset every op used here has had
a stable definition in since 2020), IR version as torch 1.13 writes it (8). Every model is built in eval mode after
a fixed torch.manual_seed, so weights, sample inputs, outputs and the exported bytes are the same on every run with
the same torch build.

For every model <name> the script writes:
    <name>.onnx           the exported model (batch 1, static shapes)
    <name>.expected.json  opset, producer, ONNX op types (in graph order and as a sorted set),
                          3 deterministic sample inputs and PyTorch's float32 outputs for them

What the exporter of torch 1.13 does with these models (checked when this script was written, and asserted below so
a different torch cannot silently change the fixtures):
    - nn.Linear on a 2-D input becomes Gemm (transB=1); on a 3-D input it becomes MatMul (weight pre-transposed into
      an initializer) + Add.
    - nn.Dropout in eval mode is dropped: no Dropout node is emitted (with training=EVAL or PRESERVE).
    - With training=EVAL (the default) the exporter folds BatchNorm2d into the preceding Conv whatever
      do_constant_folding says (its eval peephole pass). cnn.onnx is therefore exported with
      training=PRESERVE on a model in eval mode, which keeps a BatchNormalization node using the running statistics.
"""

from __future__ import annotations

import json
import os
import sys

import onnx
import torch
from torch import nn

OPSET = 13
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "models")
SAMPLES = 3


class Mlp(nn.Module):
    """Linear(4,8) -> ReLU -> Linear(8,3) -> Softmax, input [1,4]: Gemm nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(8, 3)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.softmax(self.fc2(self.relu(self.fc1(x))))


class MlpMatMul(nn.Module):
    """Same layers on a 3-D input [1,1,4], so Linear exports as MatMul + Add; plus a Mul by 0.5 and a Dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=0.25)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.fc1(x)) * 0.5
        return self.fc2(self.dropout(h))


class Cnn(nn.Module):
    """[1,1,6,6]: Conv(1,2,3,pad 1) -> BatchNorm -> ReLU -> MaxPool(2) -> Flatten -> Linear(18,3)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(18, 3)
        with torch.no_grad():
            # Non-trivial statistics and affine parameters, so folding them is visible in the outputs.
            self.bn.running_mean.copy_(torch.tensor([0.25, -0.5]))
            self.bn.running_var.copy_(torch.tensor([1.5, 0.75]))
            self.bn.weight.copy_(torch.tensor([0.8, 1.25]))
            self.bn.bias.copy_(torch.tensor([0.1, -0.2]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.relu(self.bn(self.conv(x))))))


class CnnAvgPool(nn.Module):
    """[1,1,6,6]: Conv(1,2,3,pad 1) -> ReLU -> AvgPool(2) -> Flatten -> Linear(18,3)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.relu = nn.ReLU()
        # count_include_pad=False (the same numbers, as there is no padding): with the default True, torch 1.13
        # emits an explicit all-zero Pad node (plus its Constant) before the AveragePool.
        self.pool = nn.AvgPool2d(2, count_include_pad=False)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(18, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.relu(self.conv(x)))))


class Unsupported(nn.Module):
    """Linear(4,4) -> Sigmoid -> Linear(4,2) -> Tanh: ops the zkML circuits will not support."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.sigmoid = nn.Sigmoid()
        self.fc2 = nn.Linear(4, 2)
        self.tanh = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tanh(self.fc2(self.sigmoid(self.fc1(x))))


# name, model class, input shape, seed, export training mode, op types the export must contain
MODELS = [
    ("mlp", Mlp, [1, 4], 1, torch.onnx.TrainingMode.EVAL, ["Gemm", "Relu", "Softmax"]),
    ("mlp-matmul", MlpMatMul, [1, 1, 4], 2, torch.onnx.TrainingMode.EVAL, ["MatMul", "Add", "Mul", "Relu"]),
    ("cnn", Cnn, [1, 1, 6, 6], 3, torch.onnx.TrainingMode.PRESERVE,
     ["Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm"]),
    ("cnn-avgpool", CnnAvgPool, [1, 1, 6, 6], 4, torch.onnx.TrainingMode.EVAL,
     ["Conv", "Relu", "AveragePool", "Flatten", "Gemm"]),
    ("unsupported", Unsupported, [1, 4], 5, torch.onnx.TrainingMode.EVAL, ["Gemm", "Sigmoid", "Tanh"]),
]


def sample_inputs(shape: list[int], seed: int) -> list[torch.Tensor]:
    """Deterministic inputs rounded to 4 decimals, so the JSON holds exactly what was fed to the model."""
    generator = torch.Generator().manual_seed(1000 + seed)
    return [torch.round(torch.randn(shape, generator=generator) * 1e4) / 1e4 for _ in range(SAMPLES)]


def export(name: str, cls: type, shape: list[int], seed: int, training, must_have: list[str]) -> None:
    torch.manual_seed(seed)
    model = cls()
    model.eval()
    path = os.path.join(OUT_DIR, f"{name}.onnx")
    torch.onnx.export(
        model,
        (torch.zeros(shape),),
        path,
        opset_version=OPSET,
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
            sys.exit(f"{name}: expected a {op} node, the exporter emitted {op_types}")
    if "Dropout" in op_types:
        print(f"note: {name} kept a Dropout node")

    samples = []
    with torch.no_grad():
        for x in sample_inputs(shape, seed):
            samples.append({"input": x.tolist(), "output": model(x).tolist()})
    expected = {
        "model": f"{name}.onnx",
        "producer": f"{proto.producer_name} {proto.producer_version}",
        "irVersion": proto.ir_version,
        "opset": OPSET,
        "inputShape": shape,
        "opTypes": op_types,
        "opTypeSet": sorted(set(op_types)),
        "nodeNames": [node.name for node in proto.graph.node],
        "samples": samples,
    }
    with open(os.path.join(OUT_DIR, f"{name}.expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(f"{name}: {os.path.getsize(path)} bytes, ops {op_types}")


def main() -> None:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    for entry in MODELS:
        export(*entry)


if __name__ == "__main__":
    main()
