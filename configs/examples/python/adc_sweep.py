# ADC resolution against accuracy and energy for the shipped LeNet-5 on one chip with 5% programming
# variation, each point with intervals calibrated for its ADC. Run from the repository root with
# PYTHONPATH=build/python; LIMIT (test images per point) and OUT (the plot) may be set.
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import cimsim

limit = int(os.environ.get("LIMIT", "1000"))
out = os.environ.get("OUT", "out/adc_sweep.png")
base = cimsim.HwConfig.load("configs/hw/rram-neurosim-128-4b.yaml", overrides={"device.program_sigma": 0.05})
model = cimsim.Bundle.load("configs/models/lenet5-fmnist-4b")

bits, accuracy, energy = [3, 4, 5, 6, 8], [], []
for b in bits:
    hw = base.with_overrides({"macro.adc_bits": b})
    calib = cimsim.calibrate(hw, model, limit=200)  # 200 training images of the same chip
    result = cimsim.run(hw, model, limit=limit, calib=calib)
    accuracy.append(100 * result.accuracy)
    energy.append(result.energy_per_image_pj / 1e3)
    print(f"{b} bits: {accuracy[-1]:.2f}%, {energy[-1]:.1f} nJ/image")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(bits, accuracy, "o-", label="accuracy")
ax.set_xlabel("ADC bits")
ax.set_ylabel("top-1 accuracy (%)")
right = ax.twinx()
right.plot(bits, energy, "s--", color="tab:red")
right.set_ylabel("energy (nJ/image)", color="tab:red")
fig.tight_layout()
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
fig.savefig(out, dpi=120)
print("wrote", out)
