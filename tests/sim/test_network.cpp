// A small network with every layer type on the simulated chip, against a plain reference written
// here from docs/model-bundle.md (ideal cells and converter: every MVM is an exact integer product).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "../support/in_child.h"
#include "../support/test_configs.h"
#include "../support/tiny_network.h"
#include "bundle/bundle_writer.h"
#include "data/idx_reader.h"
#include "network_runner.h"

namespace cimsim {
namespace {

using testing::every_layer_bundle;
using testing::Image;
using testing::random_images;
using testing::reference_logits;

TEST(Network, EveryLayerTypeMatchesThePlainReference) {
  std::mt19937 gen(42);
  const ModelBundle bundle = every_layer_bundle(gen);
  testing::HwParams p;  // 16 x 24 macros, rows_per_cycle 8, 4b/4b
  p.adc_ideal = true;
  const HwConfig hw = testing::make_hw(p);
  const data::Dataset images = random_images(gen);

  NetworkOptions options;
  options.batch = 2;  // several batches, one partly filled
  const NetworkReport report = run_network(hw, bundle, images, options);

  ASSERT_EQ(report.logits.rows(), 5);
  for (int b = 0; b < 5; ++b) {
    Image image(72);
    for (int i = 0; i < 72; ++i)
      image[std::size_t(i)] = double(images.images[std::size_t(b * 72 + i)]) / 255.0;
    const std::vector<double> expected = reference_logits(bundle, image);
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(report.logits(b, c), expected[std::size_t(c)]) << "image " << b << " class " << c;
  }
  // Cycles: every layer's per-image cycles follow the rule, and the total is their sum.
  int64_t total = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const NetworkLayerReport& r = report.layers[i];
    const BundleLayer& l = bundle.layers[i];
    const int64_t digital =
        (r.digital_ops_per_image + hw.digital.ops_per_cycle - 1) / hw.digital.ops_per_cycle;
    EXPECT_EQ(r.digital_cycles_per_image, digital) << l.name;
    if (l.is_cim()) {
      const int64_t pixels = l.output_pixels();
      EXPECT_EQ(r.cycles_per_image, pixels * r.mvm.cycles_per_mvm + digital) << l.name;
      EXPECT_GT(r.mvm.cycles_per_mvm, 0);
    } else {
      EXPECT_EQ(r.cycles_per_image, digital) << l.name;
    }
    total += r.cycles_per_image;
  }
  EXPECT_EQ(report.cycles_per_image, total);
  EXPECT_EQ(report.layers[6].mvm.macros, 6);  // conv3: 36 rows in groups of 8 -> 3 row tiles, 6 outputs -> 2
}

// Leakage by the closed form of docs/stats.md: without power gating every mapped macro and the
// digital unit leak for the whole run; with it, a layer's macros only for its MVM cycles and the
// digital unit only for its own cycles. Static and dynamic energy add up to the total.
void expect_leakage_follows_the_rule(bool gated) {
  std::mt19937 gen(42);
  const ModelBundle bundle = every_layer_bundle(gen);
  testing::HwParams p;  // leakage_mw_per_macro 0.1
  const HwConfig hw =
      parse_hw_config(testing::hw_yaml(p) + "digital:\n  pj_per_op: 0.01\n  leakage_mw: 0.5\n" +
                          "buffer:\n  pj_per_byte: 0.3\n" +
                          "chip:\n  power_gating: " + (gated ? "true" : "false") + "\n",
                      "test.yaml");
  const data::Dataset images = random_images(gen);
  NetworkOptions options;
  options.batch = 2;
  const NetworkReport report = run_network(hw, bundle, images, options);
  const double hz = hw.timing.clock_mhz * 1e6, n = double(report.images);
  const double run_s = double(report.cycles_per_image) * n / hz;
  double digital_cycles = 0, macro_leakage = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const NetworkLayerReport& r = report.layers[i];
    digital_cycles += double(r.digital_cycles_per_image) * n;
    if (!bundle.layers[i].is_cim()) continue;
    const double own_s = double(r.mvm.cycles_per_mvm) * double(bundle.layers[i].output_pixels()) * n / hz;
    const double expected = 0.1e-3 * r.mvm.macros * (gated ? own_s : run_s) * 1e12;
    EXPECT_NEAR(r.mvm.energy.leakage_pj, expected, 1e-9 * expected) << r.name;
    macro_leakage += r.mvm.energy.leakage_pj;
  }
  const double digital_s = gated ? digital_cycles / hz : run_s;
  EXPECT_NEAR(report.digital_static_pj, 0.5e-3 * digital_s * 1e12, 1e-9 * report.digital_static_pj);
  EXPECT_GT(report.digital_static_pj, 0);
  EXPECT_NEAR(report.energy.static_pj(), macro_leakage, 1e-9 * macro_leakage);
  EXPECT_DOUBLE_EQ(report.energy_per_image_pj() * n, report.energy.dynamic_pj() + report.energy.static_pj() +
                                                         report.digital_pj + report.digital_static_pj +
                                                         report.buffer_pj);
  EXPECT_GT(report.buffer_pj, 0);
  // The layers' own energies (macros, digital operations, buffer traffic) and the digital unit's
  // leakage add up to the chip's.
  double layers = report.digital_static_pj;
  for (const NetworkLayerReport& r : report.layers)
    layers += (r.cim ? r.mvm.energy.total_pj() : 0.0) + r.digital_pj + r.buffer_pj;
  EXPECT_NEAR(layers, report.energy_per_image_pj() * n, 1e-9 * layers);
}

TEST(Network, LeakageWithoutPowerGatingLastsTheWholeRun) { expect_leakage_follows_the_rule(false); }
TEST(Network, LeakageWithPowerGatingLastsOnlyTheActiveCycles) { expect_leakage_follows_the_rule(true); }

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

// The shipped nearest-class-mean bundle on real Fashion-MNIST images: with an ideal converter the
// chip's predictions equal those computed here by hand from the bundle's known weights.
TEST(Network, FashionMnistSliceGivesTheExpectedPredictions) {
  if (!std::filesystem::exists(data::kFashionMnistDir))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const ModelBundle bundle =
      load_model_bundle(std::string(CIMSIM_SOURCE_DIR) + "/configs/models/fmnist-centroid-8b");
  const data::Dataset images = data::load_fashion_mnist(data::kFashionMnistDir, data::Split::kTest, 200);
  HwConfig hw = load_hw_config(std::string(CIMSIM_SOURCE_DIR) + "/configs/hw/rram-neurosim-128.yaml",
                               {"adc.ideal=true"});
  const NetworkReport report = run_network(hw, bundle, images, NetworkOptions{});

  const BundleLayer& fc = bundle.layers[1];
  int64_t correct = 0;
  for (int64_t b = 0; b < images.count; ++b) {
    int best = 0;
    double best_score = -1e300;
    for (int c = 0; c < 10; ++c) {
      long acc = 0;
      for (int k = 0; k < 784; ++k)
        acc += long(images.image(b)[k]) * fc.weight(k, c);  // q(pixel / 255) = pixel
      const double score =
          double(acc) * fc.weight_scale[std::size_t(c)] * fc.input_scale + fc.bias[std::size_t(c)];
      if (score > best_score) {
        best_score = score;
        best = c;
      }
    }
    ASSERT_EQ(report.predictions[std::size_t(b)], best) << "image " << b;
    correct += best == images.labels[std::size_t(b)];
  }
  EXPECT_EQ(report.correct, correct);
  EXPECT_GT(report.accuracy(), 0.6) << "a nearest-class-mean classifier gets about two thirds right";
}

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

using testing::in_child;

// Per CIM layer: its name, the interval chosen and the histogram it was chosen from.
struct Chosen {
  std::map<std::string, AdcInterval> intervals;
  std::map<std::string, std::string> histograms;
};

Chosen parse_chosen(const std::string& text) {
  Chosen c;
  for (const auto& line : nlohmann::json::parse(text)) {
    const std::string name = line["name"];
    c.intervals[name] = AdcInterval{false, line["lo"], line["hi"]};
    c.histograms[name] = line["histogram"].dump();
  }
  return c;
}

// calibrate_network with `choose`, in a child; the choices and what each was made from.
Chosen calibrate_in_child(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& images,
                          const NetworkOptions& options,
                          const std::function<AdcInterval(const PartialSumHistogram&)>& choose) {
  const std::string text = in_child([&] {
    nlohmann::json lines = nlohmann::json::array();
    calibrate_network(hw, bundle, images, options, [&](const BundleLayer& l, const ConversionStats& s) {
      const AdcInterval chosen = choose(s.histogram);
      lines.push_back({{"name", l.name},
                       {"lo", chosen.lo},
                       {"hi", chosen.hi},
                       {"histogram", to_json_record(s.histogram.figures())}});
      return chosen;
    });
    return lines.dump();
  });
  if (text.rfind("error", 0) == 0) throw std::runtime_error(text);
  return parse_chosen(text);
}

// The layer-by-layer order of cimsim calibrate: each layer's distribution, measured after the
// earlier layers' intervals were chosen, is exactly the one a run with those intervals gives it
// (read noise and log-normal programming on, so partial sums are not integers; several batches;
// a residual add whose input must outlive its first consumer).
TEST(Network, CalibrationOrderMeasuresWhatARunWithTheChosenIntervalsMeasures) {
  std::mt19937 gen(42);
  const ModelBundle bundle = every_layer_bundle(gen);
  testing::HwParams p;
  p.adc_bits = 3;
  p.device_extra = "  program_lognormal_sigma: 0.1\n  read_noise_sigma: 0.3\n";
  const HwConfig hw = testing::make_hw(p);
  const data::Dataset images = random_images(gen);
  NetworkOptions options;
  options.batch = 2;
  options.seed = 7;
  // Keep the middle 40% of the measured span: heavy clipping, so the choices change what the
  // later layers see.
  auto narrow = [](const PartialSumHistogram& h) {
    const std::vector<int64_t> counts = h.counts();
    std::size_t first = 0, last = counts.size() - 1;
    while (counts[first] == 0) ++first;
    while (counts[last] == 0) --last;
    const double lo = h.first_edge() + double(first) * h.bin_width();
    const double hi = h.first_edge() + double(last + 1) * h.bin_width();
    return AdcInterval{false, lo + 0.3 * (hi - lo), hi - 0.3 * (hi - lo)};
  };
  const Chosen chosen = calibrate_in_child(hw, bundle, images, options, narrow);
  const Chosen full = calibrate_in_child(hw, bundle, images, options,
                                         [](const PartialSumHistogram&) { return AdcInterval{}; });
  ASSERT_EQ(chosen.intervals.size(), 4u);  // conv1, conv2, conv3, fc

  HwConfig with_chosen = hw;
  with_chosen.adc.layers = chosen.intervals;
  const NetworkReport report = run_network(with_chosen, bundle, images, options);
  int differ_from_full = 0;
  for (const NetworkLayerReport& r : report.layers) {
    if (!r.cim) continue;
    EXPECT_EQ(to_json_record(r.mvm.stats.histogram.figures()).dump(), chosen.histograms.at(r.name)) << r.name;
    EXPECT_EQ(r.mvm.interval.lo, chosen.intervals.at(r.name).lo) << r.name;
    EXPECT_GT(r.mvm.stats.adc.clipped_low + r.mvm.stats.adc.clipped_high, 0) << r.name;
    differ_from_full += chosen.histograms.at(r.name) != full.histograms.at(r.name);
  }
  // The first layer is measured before any choice; every later one after conv1 clips.
  EXPECT_EQ(chosen.histograms.at("conv1"), full.histograms.at("conv1"));
  EXPECT_EQ(differ_from_full, 3);
}

}  // namespace
}  // namespace cimsim
