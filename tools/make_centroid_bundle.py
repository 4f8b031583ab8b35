#!/usr/bin/env python3
"""Writes a nearest-class-mean classifier for Fashion-MNIST as a cimsim model bundle.

Until the trainer ships a trained default, this is the README's demo model: one linear layer whose
weights are the per-class mean images of the training set, quantized to WEIGHT_BITS, with bias
-|mean|^2 / 2, so argmax(w_c . x + b_c) is the nearest class mean. It reads Debian's
dataset-fashion-mnist files; numpy only.

    python3 tools/make_centroid_bundle.py configs/models/fmnist-centroid-8b 8 8
"""
import gzip
import os
import sys

import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    out, weight_bits, input_bits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    src = "/usr/share/datasets/fashion-mnist"
    images = read_idx(os.path.join(src, "train-images-idx3-ubyte.gz")).reshape(-1, 784) / 255.0
    labels = read_idx(os.path.join(src, "train-labels-idx1-ubyte.gz"))
    means = np.stack([images[labels == c].mean(axis=0) for c in range(10)])  # 10 x 784, in [0, 1]
    top = 2 ** (weight_bits - 1) - 1
    weight = np.rint(means * top).astype(np.int8 if weight_bits <= 8 else np.int16)
    weight_scale = 1.0 / top
    input_scale = 1.0 / (2 ** input_bits - 1)
    w = weight.astype(np.float64) * weight_scale  # the quantized means the chip will use
    bias = -0.5 * (w * w).sum(axis=1)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "fc.weight.npy"), weight)
    np.save(os.path.join(out, "fc.bias.npy"), bias)
    with open(os.path.join(out, "model.yaml"), "w") as f:
        f.write(f"""# Nearest-class-mean classifier for Fashion-MNIST (tools/make_centroid_bundle.py {out} {weight_bits} {input_bits}).
format: cimsim-model-bundle
version: 1
name: fmnist-centroid-{weight_bits}b
input:
  shape: [1, 28, 28]
  mean: [0.0]
  std: [1.0]
classes: 10
bits:
  weight: {weight_bits}
  input: {input_bits}
layers:
  - name: flatten
    type: flatten
  - name: fc
    type: linear
    in_features: 784
    out_features: 10
    weight: fc.weight.npy
    weight_scale: {weight_scale!r}
    input_scale: {input_scale!r}
    bias: fc.bias.npy
""")


if __name__ == "__main__":
    main()
