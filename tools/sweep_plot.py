#!/usr/bin/env python3
"""The plots of a cimsim sweep, from its results.json, each as PNG and SVG.

Usage: sweep_plot.py RESULTS.json NAME=PATH ...  (run by `cimsim sweep`; NAME is one of the files
below, PATH where to write it; needs python3-matplotlib)

- accuracy: top-1 accuracy against the x parameter (macro.adc_bits when the sweep varies it, else
  the first parameter): the mean over the seeds with error bars of one standard deviation and the
  min..max band, one line per combination of the other parameters.
- energy: energy per image against the x parameter, stacked by component (mean over seeds), one
  panel per combination of the other parameters (at most 6), all panels on one y axis.
- pareto: accuracy (mean over seeds) against energy per image, one marker per parameter
  combination, the Pareto front (no other point has both lower energy and higher accuracy) joined.
- adc_cost: one conversion's energy and one ADC's area against the x parameter, as the configured
  cost models give them (the area panel says so when the sweep has no area section).
- area: accuracy against chip area, as pareto does against energy.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cimsim_stats import SweepMetrics, SweepResults  # noqa: E402  (generated beside this script)

# The energy components per image: SweepMetrics' energy_<part>_pj fields.
PARTS = [name[len("energy_"):-len("_pj")] for name, _ in SweepMetrics.FIELDS
         if name.startswith("energy_") and name != "energy_per_image_pj"]
PLOTS = ["accuracy", "energy", "pareto", "adc_cost", "area"]

plt.rcParams["svg.hashsalt"] = "cimsim"  # the same SVG bytes for the same results


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def mean(values):
    return sum(values) / len(values)


def save(fig, name, paths):
    fig.tight_layout()
    fig.savefig(paths[name + ".png"], format="png")
    fig.savefig(paths[name + ".svg"], format="svg", metadata={"Date": None})
    plt.close(fig)


def no_points(ax, text="no point succeeded"):
    ax.text(0.5, 0.5, text, ha="center", transform=ax.transAxes)


class Sweep:
    """The successful points grouped: other parameters -> x value -> points (over seeds)."""

    def __init__(self, results):
        self.results = results
        params = results.params
        self.x_index = params.index("macro.adc_bits") if "macro.adc_bits" in params else (0 if params else None)
        self.x_name = params[self.x_index] if self.x_index is not None else "seed"
        self.ok = [p for p in results.points if p.metrics is not None]
        self.groups = {}
        for p in self.ok:
            x = p.values[self.x_index] if self.x_index is not None else str(p.seed)
            rest = tuple(v for i, v in enumerate(p.values) if i != self.x_index)
            self.groups.setdefault(rest, {}).setdefault(x, []).append(p)
        self.others = [name for i, name in enumerate(params) if i != self.x_index]
        # One x axis for every line and panel: numeric x values by value, others in order of first
        # appearance, each at its own position.
        self.xs = list(dict.fromkeys(x for by_x in self.groups.values() for x in by_x))
        self.numeric = bool(self.xs) and all(number(x) is not None for x in self.xs)
        if self.numeric:
            self.xs.sort(key=number)
        self.position = {x: (number(x) if self.numeric else i) for i, x in enumerate(self.xs)}

    def label(self, rest):
        return ", ".join(f"{n}={v}" for n, v in zip(self.others, rest)) or "all points"

    def ordered(self, by_x):
        return [x for x in self.xs if x in by_x]

    def x_axis(self, ax):
        if self.xs and not self.numeric:
            ax.set_xticks([self.position[x] for x in self.xs], self.xs)
        ax.set_xlabel(self.x_name)

    def combos(self):
        """Each combination of parameter values with the mean of its seeds' metric(s)."""
        out = {}
        for p in self.ok:
            out.setdefault(tuple(p.values), []).append(p)
        return out


def plot_accuracy(sweep, paths):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for rest, by_x in sweep.groups.items():
        xs = sweep.ordered(by_x)
        pos = [sweep.position[x] for x in xs]
        acc = [[100 * p.metrics.accuracy for p in by_x[x]] for x in xs]
        means = [mean(a) for a in acc]
        stds = [(sum((v - m) ** 2 for v in a) / (len(a) - 1)) ** 0.5 if len(a) > 1 else 0 for a, m in zip(acc, means)]
        line = ax.errorbar(pos, means, yerr=stds, marker="o", capsize=3, label=sweep.label(rest))
        ax.fill_between(pos, [min(a) for a in acc], [max(a) for a in acc], alpha=0.15, color=line[0].get_color())
    sweep.x_axis(ax)
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(f"{sweep.results.name}: accuracy (mean, std and min..max over seeds)")
    if not sweep.ok:
        no_points(ax)
    elif len(sweep.groups) > 1:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, "accuracy", paths)


def plot_energy(sweep, paths):
    panels = list(sweep.groups.items())[:6] or [((), {})]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.5), squeeze=False, sharey=True)
    for ax, (rest, by_x) in zip(axes[0], panels):
        bottom = [0.0] * len(sweep.xs)
        for part in PARTS:
            heights = [mean([getattr(p.metrics, f"energy_{part}_pj") / 1e3 for p in by_x[x]]) if x in by_x else 0
                       for x in sweep.xs]
            ax.bar(range(len(sweep.xs)), heights, bottom=bottom, label=part)
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_xticks(range(len(sweep.xs)), sweep.xs)
        ax.set_xlabel(sweep.x_name)
        ax.set_title(sweep.label(rest), fontsize=8)
        if not by_x:
            no_points(ax)
    axes[0][0].set_ylabel("energy per image (nJ)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{sweep.results.name}: energy per image by component")
    save(fig, "energy", paths)


def plot_front(sweep, paths, name, cost, cost_name, cost_unit, missing):
    """Accuracy (mean over seeds) against a cost, a marker per combination, the Pareto front joined."""
    pts = []
    for values, ps in sweep.combos().items():
        costs = [cost(p.metrics) for p in ps]
        if any(c is None for c in costs):
            continue
        pts.append((mean(costs), mean([100 * p.metrics.accuracy for p in ps]),
                    ", ".join(f"{n}={v}" for n, v in zip(sweep.results.params, values))))
    front = sorted(p for p in pts
                   if not any(q[0] <= p[0] and q[1] >= p[1] and (q[0], q[1]) != (p[0], p[1]) for q in pts))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="#888888", label="points (mean over seeds)")
    ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="#ee6677", label="Pareto front")
    for c, a, text in front:
        ax.annotate(text, (c, a), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"{cost_name} ({cost_unit})")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(f"{sweep.results.name}: accuracy against {cost_name}")
    if not sweep.ok:
        no_points(ax)
    elif not pts:
        no_points(ax, missing)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, name, paths)


def plot_adc_cost(sweep, paths):
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, field, unit in ((left, "adc_pj_per_conversion", "energy per conversion (pJ)"),
                            (right, "adc_um2", "area of one ADC (um^2)")):
        drawn = False
        for rest, by_x in sweep.groups.items():
            xs = [x for x in sweep.ordered(by_x) if getattr(by_x[x][0].metrics, field) is not None]
            if xs:
                ax.plot([sweep.position[x] for x in xs], [getattr(by_x[x][0].metrics, field) for x in xs],
                        marker="o", label=sweep.label(rest))
                drawn = True
        sweep.x_axis(ax)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        if not drawn:
            no_points(ax, "no area section" if field == "adc_um2" and sweep.ok else "no point succeeded")
    left.set_title("ADC energy (energy.adc_model)")
    right.set_title("ADC area (area.adc_model)")
    fig.suptitle(f"{sweep.results.name}: converter cost")
    save(fig, "adc_cost", paths)


def main(results_path, outputs):
    paths = dict(o.split("=", 1) for o in outputs)
    wanted = {f"{p}.{ext}" for p in PLOTS for ext in ("png", "svg")}
    if set(paths) != wanted:
        sys.exit(f"sweep_plot.py: expected NAME=PATH for each of {sorted(wanted)}")
    sweep = Sweep(SweepResults.load(results_path))
    plot_accuracy(sweep, paths)
    plot_energy(sweep, paths)
    plot_front(sweep, paths, "pareto", lambda m: m.energy_per_image_pj / 1e3, "energy per image", "nJ",
               "no point succeeded")
    plot_adc_cost(sweep, paths)
    plot_front(sweep, paths, "area", lambda m: m.chip_mm2, "chip area", "mm^2", "no area section in this sweep")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
