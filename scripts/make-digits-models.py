#!/usr/bin/python3
"""Train tiny classifiers on scikit-learn's bundled digits data set and export them to ONNX, with a shared test set.

Requirements (Debian bookworm packages, installed with apt-get, for the system Python /usr/bin/python3):
    python3-torch 1.13.1 (reports 1.13.0a0), python3-onnx 1.12.0 and python3-sklearn 1.2.1.
    apt-get install -y --no-install-recommends python3-torch python3-onnx python3-sklearn
The data set ships inside scikit-learn (sklearn/datasets/data/digits.csv.gz): nothing is downloaded.

Run from the repository root (a few seconds on one core):
    /usr/bin/python3 scripts/make-digits-models.py

Data: load_digits() gives 1797 images of 8x8 pixels with integer values 0..16 and labels 0..9. Inputs are the pixels
divided by 16, so every model input is an exact multiple of 1/16 in [0, 1] (exactly representable in float32 and in
any fixed-point format with at least 4 fractional bits). The split is
train_test_split(indices, test_size=400, random_state=0, stratify=labels): 1397 training and 400 test images.

Models (trained in this order, each after its own torch.manual_seed, full-batch Adam on the 1397 training images
with cross-entropy on the logits; one thread and torch.use_deterministic_algorithms, so the weights and the exported
bytes are the same on every run with the same torch build and CPU):
    digits-logreg  input [1,64]: Linear(64,10). Exports as one Gemm; the output is the raw logits.
    digits-mlp     input [1,64]: Linear(64,32) -> ReLU -> Linear(32,10) -> Softmax(dim=1). Trained on the
                   pre-softmax logits; the exported output is the softmax.
    digits-cnn     input [1,1,8,8]: Conv2d(1,4,3,padding=1) -> BatchNorm2d(4) -> ReLU -> MaxPool2d(2) -> Flatten ->
                   Linear(64,10). Trained in train mode (so the BatchNorm running statistics are real ones, not the
                   initial 0/1), then switched to eval mode and exported with training=PRESERVE and
                   do_constant_folding=False: with training=EVAL the exporter of torch 1.13 folds the BatchNorm into
                   the Conv whatever do_constant_folding says (see make-onnx-fixtures.py), and PRESERVE on a model in
                   eval mode keeps a BatchNormalization node that uses the running statistics.
Export settings as in make-onnx-fixtures.py: ONNX opset 13, batch 1, static shapes, input "input", output "output".

Files written to test/fixtures/models/:
    <name>.onnx        the three exported models
    digits-test.json   the test set and what PyTorch computes on it:
        source         data set, scikit-learn version and split
        scale          0.0625: model input = pixel * scale
        indices        the 400 test images' row numbers in load_digits() (ascending order of the split's output)
        pixels         400 rows of 64 integer pixels 0..16 (row-major 8x8; the CNN reads the same 64 as [1,1,8,8])
        labels         the 400 true digits
        models.<name>  inputShape; floatAccuracy (the float32 torch model's accuracy on the 400, eval mode);
                       predicted (its argmax for each of the 400); logits (its raw output vectors for the first 20
                       test images: logits for digits-logreg and digits-cnn, softmax probabilities for digits-mlp;
                       float32 values written as the shortest decimal that reads back to the same double)
    The JSON is written with one array of scalars per line (one line per test image for pixels), so it is compact,
    deterministic and diffs line by line.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from onnx_export import export_checked

OPSET = 13
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "models")
TEST_SIZE = 400
SPLIT_SEED = 0
SCALE = 1 / 16
LOGIT_SAMPLES = 20


class LogReg(nn.Module):
    """Multinomial logistic regression: Linear(64,10), raw logits out."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)


class Mlp(nn.Module):
    """Linear(64,32) -> ReLU -> Linear(32,10) -> Softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, 10)
        self.softmax = nn.Softmax(dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.softmax(self.logits(x))


class Cnn(nn.Module):
    """[1,1,8,8]: Conv(1,4,3,pad 1) -> BatchNorm -> ReLU -> MaxPool(2) -> Flatten -> Linear(64,10)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.relu(self.bn(self.conv(x))))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)


# name, model class, input shape, seed, epochs, learning rate, weight decay, export training mode,
# op types the export must contain
MODELS = [
    ("digits-logreg", LogReg, [1, 64], 11, 300, 0.05, 1e-4, torch.onnx.TrainingMode.EVAL, ["Gemm"]),
    ("digits-mlp", Mlp, [1, 64], 12, 300, 0.01, 1e-4, torch.onnx.TrainingMode.EVAL, ["Gemm", "Relu", "Softmax"]),
    ("digits-cnn", Cnn, [1, 1, 8, 8], 13, 300, 0.02, 1e-4, torch.onnx.TrainingMode.PRESERVE,
     ["Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm"]),
]


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels (int 0..16, [n,64]) and labels, split into train and test; also the test rows' indices."""
    digits = load_digits()
    pixels = digits.data.astype(np.int64)
    labels = digits.target.astype(np.int64)
    if pixels.shape != (1797, 64) or pixels.min() < 0 or pixels.max() > 16 or not np.array_equal(digits.data, pixels):
        sys.exit(f"unexpected digits data: shape {pixels.shape}, range {pixels.min()}..{pixels.max()}")
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=labels
    )
    test_idx = np.sort(test_idx)
    train_idx = np.sort(train_idx)
    return pixels[train_idx], labels[train_idx], pixels[test_idx], labels[test_idx], test_idx


def as_input(pixels: np.ndarray, shape: list[int]) -> torch.Tensor:
    """[n,64] integer pixels -> float32 model input [n, *shape[1:]], scaled by 1/16 (exact)."""
    x = torch.from_numpy(pixels).to(torch.float32) * SCALE
    return x.reshape([len(pixels)] + shape[1:])


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float, weight_decay: float) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model.logits(x), y)
        loss.backward()
        optimizer.step()
    model.eval()


def export(model: nn.Module, name: str, shape: list[int], training, must_have: list[str]) -> onnx.ModelProto:
    path = os.path.join(OUT_DIR, f"{name}.onnx")
    return export_checked(model, path, shape, OPSET, training, must_have)


def dump(value, indent: int = 0) -> str:
    """JSON with objects indented and every list of scalars on one line (lists of lists: one inner list a line)."""
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {dump(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        return "[\n" + ",\n".join(pad + dump(v, indent + 1) for v in value) + "\n" + "  " * indent + "]"
    return json.dumps(value, separators=(",", ":"))


def main() -> None:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    train_px, train_y, test_px, test_y, test_idx = load()
    y_train = torch.from_numpy(train_y)
    results = {}
    for name, cls, shape, seed, epochs, lr, weight_decay, training, must_have in MODELS:
        torch.manual_seed(seed)
        model = cls()
        train(model, as_input(train_px, shape), y_train, epochs, lr, weight_decay)
        with torch.no_grad():
            train_acc = (model(as_input(train_px, shape)).argmax(dim=1) == y_train).double().mean().item()
            outputs = model(as_input(test_px, shape))
        predicted = outputs.argmax(dim=1)
        accuracy = (predicted.numpy() == test_y).mean().item()
        proto = export(model, name, shape, training, must_have)
        results[name] = {
            "inputShape": shape,
            "floatAccuracy": accuracy,
            "predicted": predicted.tolist(),
            "logits": outputs[:LOGIT_SAMPLES].tolist(),
        }
        size = os.path.getsize(os.path.join(OUT_DIR, f"{name}.onnx"))
        ops = [f"{node.name} ({node.op_type})" for node in proto.graph.node]
        print(f"{name}: train accuracy {train_acc:.4f}, test accuracy {accuracy:.4f}, {size} bytes, ops {ops}")

    test_set = {
        "source": (
            f"scikit-learn {sklearn.__version__} load_digits() (1797 8x8 images, pixels 0..16); test set = "
            f"train_test_split(range(1797), test_size={TEST_SIZE}, random_state={SPLIT_SEED}, stratify=labels), "
            f"sorted by row; the other 1397 rows trained the models (scripts/make-digits-models.py, "
            f"torch {torch.__version__})"
        ),
        "scale": SCALE,
        "indices": test_idx.tolist(),
        "pixels": test_px.tolist(),
        "labels": test_y.tolist(),
        "models": results,
    }
    path = os.path.join(OUT_DIR, "digits-test.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(test_set) + "\n")
    print(f"digits-test.json: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
