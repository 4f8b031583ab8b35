#!/usr/bin/env python3
"""Trains an ordinary PyTorch model on Fashion-MNIST, exports it to ONNX and writes the test set as
.npy files: the user side of docs/import.md. Needs python3-torch (Debian's, LibTorch 1.13).

    /usr/bin/python3 tools/pytorch_fmnist.py lenet5 --out out/torch-lenet5 [--epochs 4]
    /usr/bin/python3 tools/pytorch_fmnist.py resnet --out out/torch-resnet

Writes OUT/model.onnx, OUT/float.json (the float model's test top-1 and the normalisation used) and
OUT/test_images.npy, OUT/test_labels.npy (uint8 pixels, N x 1 x 28 x 28). Seeded: the same
command gives the same model."""
import argparse
import gzip
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's pixel / 255 statistics


def idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(root, split):
    prefix = "train" if split == "train" else "t10k"
    def find(name):
        for n in (name, name + ".gz"):
            if os.path.exists(os.path.join(root, n)):
                return os.path.join(root, n)
        raise FileNotFoundError(name)
    x = idx(find(f"{prefix}-images-idx3-ubyte"))[:, None]
    y = idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return x, y


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class SmallResNet(nn.Module):
    """A ResNet-8 (16-32-64 channels, one basic block per stage) for 28 x 28 images."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.layer1, self.layer2, self.layer3 = Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("arch", choices=["lenet5", "resnet"])
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "test")
    norm = lambda x: (torch.tensor(x, dtype=torch.float32) / 255 - MEAN) / STD
    Xtr, Ytr, Xte, Yte = norm(xtr), torch.tensor(ytr), norm(xte), torch.tensor(yte)
    model = LeNet5() if a.arch == "lenet5" else SmallResNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = a.epochs * (len(Xtr) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=steps)
    g = torch.Generator().manual_seed(1)
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(Xtr), generator=g)
        for i in range(0, len(Xtr) - 127, 128):
            idx_ = order[i:i + 128]
            loss = F.cross_entropy(model(Xtr[idx_]), Ytr[idx_])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}/{a.epochs}: loss {loss.item():.4f}, test {100 * evaluate(model, Xte, Yte):.2f}%",
              flush=True)
    acc = evaluate(model, Xte, Yte)
    model.eval()
    torch.onnx.export(model, Xte[:1], os.path.join(a.out, "model.onnx"), input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13)
    np.save(os.path.join(a.out, "test_images.npy"), xte)
    np.save(os.path.join(a.out, "test_labels.npy"), yte)
    json.dump({"arch": a.arch, "epochs": a.epochs, "float_test_top1": acc, "mean": MEAN, "std": STD},
              open(os.path.join(a.out, "float.json"), "w"), indent=1)
    print(f"float model: {100 * acc:.2f}% top-1 on the 10,000 test images -> {a.out}/model.onnx")


if __name__ == "__main__":
    main()
