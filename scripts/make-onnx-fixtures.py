#!/usr/bin/python3
"""Build the tiny ONNX test models in test/fixtures/models/ and their expected outputs.

Requirements (Debian bookworm packages, installed with apt-get, for the system Python /usr/bin/python3):
    python3-torch 1.13.1 (reports 1.13.0a0) and python3-onnx 1.12.0.
    apt-get install -y --no-install-recommends python3-torch python3-onnx

Run from the repository root:
    /usr/bin/python3 scripts/make-onnx-fixtures.py              # every model
    /usr/bin/python3 scripts/make-onnx-fixtures.py cnn-gap-pad  # only the named models (any number of names)
Prefer naming the models you add or change: the .onnx files come out byte-identical on another machine, but the
float32 outputs in the .expected.json files can differ in their last bits from one CPU to another (when cnn-gap-pad
was added, an x86-64 machine with the same Debian torch reproduced every committed .onnx byte for byte but four of the
five .expected.json files only to within 1.2e-7 absolute), so regenerating everything rewrites them for no reason.

Export settings: ONNX opset 13 (torch 1.13 supports 7..17, default 14; 13 is the opset every op used here has had
a stable definition in since 2020), IR version as torch 1.13 writes it for opset 13 (7). Every model is built in
eval mode after a fixed torch.manual_seed, so weights, sample inputs, outputs and the exported bytes are the same on
every run with the same torch build.

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
    - nn.AvgPool2d with padding and count_include_pad=True becomes Pad (mode "constant", no constant_value input,
      so 0; pads [0,0,1,1,0,0,1,1] for padding 1 from a Constant node) + AveragePool (kernel_shape and strides as
      given, pads [0,0,0,0], ceil_mode 0 and no count_include_pad attribute, i.e. 0, which is moot without pads):
      the padding is all in the Pad, so the padded zeros count in every window. With count_include_pad=True and no
      padding the Pad is there all the same, all zeros (hence count_include_pad=False in cnn-avgpool).
    - nn.ZeroPad2d (F.pad, aten::constant_pad_nd) does NOT become a lone Pad with constant pads at opset 11 and
      later: the exporter builds the ONNX pads from torch's (left, right, top, bottom) list in the graph, as
      Constant [4] -> ConstantOfShape (four int64 zeros), Concat(Constant [1,1,1,1], zeros) -> Reshape [-1,2] ->
      Slice (starts -1, ends -INT64_MAX, axes 0, steps -1: reverses the rows) -> Transpose [1,0] -> Reshape [-1] ->
      Cast (to int64) -> the Pad's second input, with the pad value 0.0 from a Constant as its third. Folding stops at
      the step -1 Slice ("Only steps=1 can be constant folded"), so all these nodes stay (with or without
      do_constant_folding; without it there are more, from Shape/Gather/Mul/Sub). Their value is the ONNX layout
      [N_begin, C_begin, H_begin, W_begin, N_end, C_end, H_end, W_end] = [0,0,1,1,0,0,1,1], as cnn-gap-pad asserts.
      As the pads are not a constant to the exporter's shape inference, the graph output of cnn-gap-pad is declared
      [Gemmoutput_dim_0, 3] (a symbolic first dimension) where the other fixtures declare [1, n].
    - nn.AdaptiveAvgPool2d(1) becomes GlobalAveragePool.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from onnx_export import export_checked

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


class CnnGapPad(nn.Module):
    """[1,1,6,6]: ZeroPad2d(1) -> Conv(1,2,3, no padding) -> ReLU -> AvgPool(2, pad 1, count_include_pad) ->
    AdaptiveAvgPool(1) -> Flatten -> Linear(2,3). Shapes 6x6 -> 8x8 -> 2x6x6 -> 2x4x4 -> 2x1x1 -> 2 -> 3."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d(1)
        self.conv = nn.Conv2d(1, 2, 3)
        self.relu = nn.ReLU()
        # Exports as Pad + AveragePool (see the docstring); the border windows hold padded zeros that count.
        self.pool = nn.AvgPool2d(2, padding=1, count_include_pad=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():
            # With the default init the pooled features are ~0.05 and the output is mostly the Gemm bias; larger
            # weights make the border handling (the Pad's zeros, the counted pool padding) visible in the outputs.
            self.conv.weight.mul_(4)
            self.fc.weight.mul_(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.gap(self.pool(self.relu(self.conv(self.pad(x)))))))


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
    ("cnn-gap-pad", CnnGapPad, [1, 1, 6, 6], 6, torch.onnx.TrainingMode.EVAL,
     ["Pad", "Conv", "Relu", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm"]),
]

# Pads (ONNX layout) each Pad node of a model must get, in graph order; checked by evaluating the nodes feeding them.
EXPECTED_PADS = {"cnn-gap-pad": [[0, 0, 1, 1, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0, 1, 1]]}


def constant_value(proto: onnx.ModelProto, name: str):
    """Value of tensor `name` if only initializers and the small int ops the exporter uses for pads produce it."""
    producers = {out: node for node in proto.graph.node for out in node.output}
    initializers = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}

    def value(tensor: str):
        if tensor in initializers:
            return initializers[tensor]
        node = producers[tensor]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        args = [value(i) for i in node.input if i != ""]
        if node.op_type == "Constant":
            return numpy_helper.to_array(attrs["value"])
        if node.op_type == "ConstantOfShape":
            return np.full(args[0], numpy_helper.to_array(attrs["value"])[0])
        if node.op_type == "Concat":
            return np.concatenate(args, axis=attrs["axis"])
        if node.op_type == "Reshape":
            return args[0].reshape(args[1])
        if node.op_type == "Transpose":
            return args[0].transpose(attrs["perm"])
        if node.op_type == "Cast":
            return args[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[attrs["to"]])
        if node.op_type == "Slice" and len(args) == 5 and len(args[3]) == 1:
            data, starts, ends, axes, steps = args
            index = [slice(None)] * data.ndim
            end = int(ends[0])
            index[int(axes[0])] = slice(int(starts[0]), None if end < -data.shape[int(axes[0])] else end, int(steps[0]))
            return data[tuple(index)]
        sys.exit(f"constant_value: cannot evaluate {node.op_type} node {node.name}")

    return value(name)


def check_pads(name: str, proto: onnx.ModelProto) -> None:
    pads = [constant_value(proto, node.input[1]).tolist() for node in proto.graph.node if node.op_type == "Pad"]
    for node in proto.graph.node:
        if node.op_type == "Pad":
            mode = next((a.s.decode() for a in node.attribute if a.name == "mode"), "constant")
            value = constant_value(proto, node.input[2]).tolist() if len(node.input) > 2 and node.input[2] else 0
            if mode != "constant" or value != 0:
                sys.exit(f"{name}: {node.name} pads with mode {mode}, value {value}; expected constant 0")
    if pads != EXPECTED_PADS[name]:
        sys.exit(f"{name}: the Pad nodes' pads are {pads}, expected {EXPECTED_PADS[name]}")


def sample_inputs(shape: list[int], seed: int) -> list[torch.Tensor]:
    """Deterministic inputs rounded to 4 decimals, so the JSON holds exactly what was fed to the model."""
    generator = torch.Generator().manual_seed(1000 + seed)
    return [torch.round(torch.randn(shape, generator=generator) * 1e4) / 1e4 for _ in range(SAMPLES)]


def export(name: str, cls: type, shape: list[int], seed: int, training, must_have: list[str]) -> None:
    torch.manual_seed(seed)
    model = cls()
    model.eval()
    path = os.path.join(OUT_DIR, f"{name}.onnx")
    proto = export_checked(model, path, shape, OPSET, training, must_have)
    op_types = [node.op_type for node in proto.graph.node]
    if "Dropout" in op_types:
        print(f"note: {name} kept a Dropout node")
    if name in EXPECTED_PADS:
        check_pads(name, proto)

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
    known = [entry[0] for entry in MODELS]
    wanted = sys.argv[1:] or known
    unknown = [name for name in wanted if name not in known]
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; the models are {known}")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    for entry in MODELS:
        if entry[0] in wanted:
            export(*entry)


if __name__ == "__main__":
    main()
