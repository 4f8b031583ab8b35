"""cimsim from Python: the simulator library with NumPy arrays in and out (docs/python.md).

    import cimsim
    hw = cimsim.HwConfig.load("configs/hw/rram-neurosim-128-4b.yaml", overrides={"macro.adc_bits": 5})
    result = cimsim.run(hw, "configs/models/lenet5-fmnist-4b", limit=1000)
    print(result.accuracy, result.energy_per_image_pj)

Every function gives the numbers `cimsim` on the command line gives for the same config, model,
data and seed; every bad input raises cimsim.InputError (a ValueError) with the command line's
message. Log lines (progress, warnings) go to logging.getLogger("cimsim").
"""

from . import _core
from ._core import Bundle, Calibration, HwConfig, InputError, RunResult
from .sweep import load_sweep

__version__ = _core.version
__all__ = ["Bundle", "Calibration", "HwConfig", "InputError", "RunResult", "architecture", "calibrate",
           "load_images", "load_sweep", "mvm", "run"]


def _hw(hw):
    return HwConfig.load(hw) if isinstance(hw, str) else hw


def _bundle(bundle):
    return Bundle.load(bundle) if isinstance(bundle, str) else bundle


def _limit(limit):
    if limit is None:
        return -1
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"limit = {limit!r}: give a whole number of images, 1 or more (None: all)")
    return limit


def architecture(name, hw, *, input_shape=(1, 28, 28), classes=10, width=1.0, seed=1):
    """A shape-only network, as `cimsim run --model arch:NAME:WIDTH` makes it: "lenet5", "vgg8" or
    "resnet20" at `width` for `input_shape` [C, H, W] images and `classes` outputs, with seeded random
    weights at the hardware's bits (docs/model-bundle.md, "Shape-only runs"): for cycles, energy
    and area, not accuracy. Bundle.shape_only(hw, seed) does the same to any bundle's graph."""
    return Bundle.architecture(name, _hw(hw), list(input_shape), classes, float(width), seed)


def load_images(name="fashion-mnist", *, split="train", limit=None):
    """A data set's images and labels as `cimsim run --data NAME` reads them ("fashion-mnist",
    "mnist:DIR", "cifar10:DIR", ...; split "train" or "test"; limit: the first N only). Returns
    (images, labels): N x C x H x W uint8 pixels (float32 values for a float data set) and int64
    labels, NumPy arrays."""
    return _core.load_images(name, split, _limit(limit))


def mvm(hw, W, X, *, seed=1, batch=4096, layer="mvm"):
    """One integer layer Y = X W on the macros, as `cimsim mvm` runs it.

    W: K x N signed integers within macro.weight_bits; X: B x K unsigned integers within
    macro.input_bits (read in place when it is a C-contiguous int32 array). Returns (Y, stats):
    Y is B x N float64 in integer MAC units, stats the layer's record of docs/stats.md (cycles,
    conversions, clipping, error, energy). `layer` selects adc.layers.<layer>.
    """
    return _core.mvm(_hw(hw), W, X, seed, batch, layer)


def run(hw, bundle, images="fashion-mnist", labels=None, *, split="test", limit=None, seed=1, batch=64,
        calib=None, histograms=True, progress=None, trace=None, trace_window=None, trace_adcs=None):
    """A model bundle over images on the simulated chip, as `cimsim run` does it.

    hw: a HwConfig or a config path; bundle: a Bundle or a bundle directory; images: a data set as
    `cimsim run --data` names it ("fashion-mnist", "mnist:DIR", ...; then `split` chooses test or
    train) or an N x C x H x W array (uint8 pixels, taken as pixel / 255, or float32 values) with
    optional integer `labels`. limit: the first N images only. calib: a Calibration (from
    calibrate() or Calibration.load) or a calibration file. progress: called as
    progress(images_done, images_in_all) after every batch. Ctrl-C stops the run. trace: a VCD file
    (a bare name goes under traces/), with trace_window "FROM:TO" cycles and trace_adcs "all" or
    "0,3", as `cimsim run --trace` takes them.

    Returns a RunResult: logits (N x classes), predictions, accuracy and correct (None without
    labels), cycles_per_image, latency_cycles, energy_per_image_pj, images_per_second, stats (the
    document `cimsim run --stats` writes) and layers (its per-layer records).
    """
    if isinstance(calib, str):
        calib = Calibration.load(calib)
    return _core.run(_hw(hw), _bundle(bundle), images, labels, split, _limit(limit), seed, batch, calib, histograms,
                     progress, trace or "", trace_window or "", trace_adcs or "")


def calibrate(hw, bundle, images="fashion-mnist", labels=None, *, split="train", limit=1000, method="mse",
              percentile=99.99, zero_level=False, seed=1, batch=64):
    """Each CIM layer's ADC interval from its partial sums, as `cimsim calibrate` chooses it.

    method: "mse" (least quantization error), "percentile" (keep `percentile` percent of the
    partial sums) or "minmax"; zero_level: move each interval by at most half a step so that 0 is
    a level. Returns a Calibration: layers {name: {lo, hi, clip_low, clip_high, mse,
    full_range_mse}}, save(path) writes the file `cimsim run --calib` reads, and run(calib=...)
    applies it.
    """
    return _core.calibrate(_hw(hw), _bundle(bundle), images, labels, split, _limit(limit), method, percentile,
                           zero_level, seed, batch)
