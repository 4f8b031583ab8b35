#!/usr/bin/env python3
"""The plot of a cimsim flow report: accuracy after each stage and energy per image by component.

Usage: flow_report.py REPORT.json OUT.png  (run by `cimsim flow`; needs python3-matplotlib)
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cimsim_stats import EnergyFigures, FlowReport  # noqa: E402  (generated beside this script)


def main(report_path, png_path):
    report = FlowReport.load(report_path)
    trainer = report.trainer_test_accuracy
    final = report.final
    labels = ["fp32", "qat", "cim (trainer)", "cimsim run"]
    values = [100 * trainer.fp32, 100 * trainer.qat, 100 * trainer.cim, 100 * final.accuracy]
    colors = ["#888888", "#4477aa", "#228833", "#ee6677"]
    if trainer.fp32 < 0:  # started from a bundle (flow.model): no fp32 stage
        labels, values, colors = labels[1:], values[1:], colors[1:]
    sums = ("dynamic", "static", "total")  # the components' sums, not components
    energy = {name: getattr(final.energy_pj, name) / final.images / 1e3
              for name, _ in EnergyFigures.FIELDS if name not in sums}

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    bars = left.bar(labels, values, color=colors)
    left.bar_label(bars, fmt="%.1f")
    left.set_ylabel("top-1 accuracy (%)")
    left.set_ylim(0, 100)
    left.set_title("accuracy after each step")
    right.bar(list(energy), list(energy.values()), color="#4477aa")
    right.set_ylabel("energy per image (nJ)")
    right.set_title("%.1f nJ/image, %.3f TOPS/W, %.1f us/image"
                    % (final.energy_per_image_pj / 1e3, final.tops_per_watt, final.latency_per_image_us))
    fig.suptitle("%s on %s" % (report.model, report.hw))
    fig.tight_layout()
    fig.savefig(png_path, dpi=100, format="png")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
