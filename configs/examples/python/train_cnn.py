"""A small CNN made of CIM layers, trained in two stages on Fashion-MNIST and exported to a bundle."""
import os
import cimsim
import cimsim.torch as ct
import torch
from torch import nn

hw = cimsim.HwConfig.load("configs/hw/rram-neurosim-128-4b.yaml")
images, labels = cimsim.load_images("fashion-mnist", split="train", limit=int(os.environ.get("LIMIT", 60000)))
x, y = torch.from_numpy(images).float() / 255, torch.from_numpy(labels)
model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))
ct.convert(model, hw, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])  # Conv2d, Linear -> CimConv2d, CimLinear
out = os.environ.get("OUT", "out/python-cnn")


def train(epochs, lr):
    optimizer = torch.optim.Adam(ct.param_groups(model), lr=lr)
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(100):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()

torch.manual_seed(1)
ct.set_stage(model, "qat"), train(2, 1e-3)  # stage 1: LSQ-quantized weights and activations
calib = cimsim.calibrate(hw, ct.export(model, f"{out}/qat"), limit=1000)  # ADC intervals from the partial sums
ct.set_stage(model, "cim", calib=calib), train(1, 1e-4)  # stage 2: on the macros, intervals learned
result = cimsim.run(hw, ct.export(model, f"{out}/cim"), limit=int(os.environ.get("TEST_LIMIT", 10000)))
print(f"{result.accuracy:.2%} on the simulated chip, {result.energy_per_image_pj / 1000:.1f} nJ/image")
