#!/usr/bin/env python3
"""The plots of a cimsim sweep, from its results.json.

Usage: sweep_plot.py RESULTS.json ACCURACY.png ENERGY.png PARETO.png  (run by `cimsim sweep`;
needs python3-matplotlib)

- ACCURACY.png: top-1 accuracy against the x parameter (macro.adc_bits when the sweep varies it,
  else the first parameter): the mean over the seeds with error bars of one standard deviation and
  the min..max band, one line per combination of the other parameters.
- ENERGY.png: energy per image against the x parameter, stacked by component (mean over seeds), one
  panel per combination of the other parameters (at most 6).
- PARETO.png: accuracy (mean over seeds) against energy per image, one marker per parameter
  combination, the Pareto front (no other point has both lower energy and higher accuracy) joined.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cimsim_stats import SweepMetrics, SweepResults  # noqa: E402  (generated beside this script)

# The energy components per image: SweepMetrics' energy_<part>_pj fields.
PARTS = [name[len("energy_"):-len("_pj")] for name, _ in SweepMetrics.FIELDS
         if name.startswith("energy_") and name != "energy_per_image_pj"]


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def mean(values):
    return sum(values) / len(values)


def main(results_path, accuracy_png, energy_png, pareto_png):
    results = SweepResults.load(results_path)
    params = results.params
    x_index = params.index("macro.adc_bits") if "macro.adc_bits" in params else (0 if params else None)
    x_name = params[x_index] if x_index is not None else "seed"
    ok = [p for p in results.points if p.metrics is not None]

#Group the points : other parameters->x value->points(over seeds).
    groups = {}
    for p in ok:
        values = p.values
        x = values[x_index] if x_index is not None else str(p.seed)
        rest = tuple(v for i, v in enumerate(values) if i != x_index)
        groups.setdefault(rest, {}).setdefault(x, []).append(p)
    others = [name for i, name in enumerate(params) if i != x_index]

    def label(rest):
        return ", ".join(f"{n}={v}" for n, v in zip(others, rest)) or "all points"

    # One x axis for every line and panel: all x values of the ok points, numeric ones by value,
    # others in order of first appearance, each at its own position.
    all_xs = list(dict.fromkeys(x for by_x in groups.values() for x in by_x))
    numeric = bool(all_xs) and all(number(x) is not None for x in all_xs)
    if numeric:
        all_xs.sort(key=number)
    position = {x: (number(x) if numeric else i) for i, x in enumerate(all_xs)}

    def ordered(by_x):
        return [x for x in all_xs if x in by_x]

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for rest, by_x in groups.items():
        xs = ordered(by_x)
        pos = [position[x] for x in xs]
        acc = [[100 * p.metrics.accuracy for p in by_x[x]] for x in xs]
        means = [mean(a) for a in acc]
        stds = [(sum((v - m) ** 2 for v in a) / (len(a) - 1)) ** 0.5 if len(a) > 1 else 0 for a, m in zip(acc, means)]
        line = ax.errorbar(pos, means, yerr=stds, marker="o", capsize=3, label=label(rest))
        ax.fill_between(pos, [min(a) for a in acc], [max(a) for a in acc], alpha=0.15, color=line[0].get_color())
    if all_xs and not numeric:
        ax.set_xticks([position[x] for x in all_xs], all_xs)
    ax.set_xlabel(x_name)
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(f"{results.name}: accuracy (mean, std and min..max over seeds)")
    if not ok:
        ax.text(0.5, 0.5, "no point succeeded", ha="center", transform=ax.transAxes)
    elif len(groups) > 1:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(accuracy_png)
    plt.close(fig)

    panels = list(groups.items())[:6] or [((), {})]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.5), squeeze=False)
    for ax, (rest, by_x) in zip(axes[0], panels):
        bottom = [0.0] * len(all_xs)
        for part in PARTS:
            heights = [mean([getattr(p.metrics, f"energy_{part}_pj") / 1e3 for p in by_x[x]]) if x in by_x else 0 for x in all_xs]
            ax.bar(range(len(all_xs)), heights, bottom=bottom, label=part)
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_xticks(range(len(all_xs)), all_xs)
        ax.set_xlabel(x_name)
        ax.set_ylabel("energy per image (nJ)")
        ax.set_title(label(rest), fontsize=8)
        if not by_x:
            ax.text(0.5, 0.5, "no point succeeded", ha="center", transform=ax.transAxes)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{results.name}: energy per image by component")
    fig.tight_layout()
    fig.savefig(energy_png)
    plt.close(fig)

#One marker per parameter combination(mean over its seeds).
    combos = {}
    for p in ok:
        combos.setdefault(tuple(p.values), []).append(p)
    pts = []
    for values, ps in combos.items():
        energy = mean([p.metrics.energy_per_image_pj / 1e3 for p in ps])
        acc = mean([100 * p.metrics.accuracy for p in ps])
        pts.append((energy, acc, ", ".join(f"{n}={v}" for n, v in zip(params, values))))
    front = [p for p in pts if not any(q[0] <= p[0] and q[1] >= p[1] and (q[0], q[1]) != (p[0], p[1]) for q in pts)]
    front.sort()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="#888888", label="points (mean over seeds)")
    ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="#ee6677", label="Pareto front")
    for e, a, text in front:
        ax.annotate(text, (e, a), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("energy per image (nJ)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(f"{results.name}: accuracy against energy")
    if not ok:
        ax.text(0.5, 0.5, "no point succeeded", ha="center", transform=ax.transAxes)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(pareto_png)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
