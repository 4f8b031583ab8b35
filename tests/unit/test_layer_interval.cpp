// The one place that decides a CIM layer's ADC interval (docs/numerics.md section 8).
#include <gtest/gtest.h>

#include "../support/test_configs.h"
#include "adc/layer_interval.h"

namespace cimsim {
namespace {

HwConfig hw_with(const std::string& adc_extra, const std::string& interval = "full") {
  testing::HwParams p;  // Ymax = 8 (A = 8, 1-bit DAC and cells), analog subtraction
  p.interval = interval;
  p.adc_extra = adc_extra;
  return testing::make_hw(p);
}

AdcInterval iv(double lo, double hi) { return AdcInterval{false, lo, hi}; }

TEST(LayerInterval, ConfigEntryThenBundleThenDefault) {
  const HwConfig hw = hw_with("  layers: {conv1: {lo: -2, hi: 3}, fc: full}\n", "{lo: -6, hi: 7}");
  const AdcInterval bundle = iv(-1, 1);
  // adc.layers.NAME wins over the bundle's, a `full` entry too.
  EXPECT_EQ(layer_interval(hw, "conv1", &bundle).lo, -2.0);
  EXPECT_EQ(layer_interval(hw, "fc", &bundle).lo, -8.0);
  EXPECT_TRUE(layer_interval(hw, "fc", &bundle).full);
  // No entry: the bundle's, else adc.interval.
  EXPECT_EQ(layer_interval(hw, "conv2", &bundle).hi, 1.0);
  EXPECT_EQ(layer_interval(hw, "conv2").hi, 7.0);
  const AdcInterval bundle_full{true, 0, 0};
  EXPECT_EQ(layer_interval(hw, "conv2", &bundle_full).hi, 8.0);
}

TEST(LayerInterval, SetOverridesComeAfterTheCalibration) {
  CalibrationFile calib;
  calib.layers.push_back(LayerCalibration{"conv1", -3, 4});
  calib.layers.push_back(LayerCalibration{"fc", -5, 5});
  const std::vector<std::string> set = {"adc.layers.fc={lo: -1, hi: 2}"};
  const std::vector<std::string> overrides = interval_overrides(&calib, set);
  ASSERT_EQ(overrides.size(), 3u);
  EXPECT_EQ(overrides.back(), set.back());
  const HwConfig hw = parse_hw_config(testing::hw_yaml(testing::HwParams{}), "hw.yaml", overrides);
  EXPECT_EQ(layer_interval(hw, "conv1").lo, -3.0);  // the calibration's
  EXPECT_EQ(layer_interval(hw, "fc").lo, -1.0);     // --set wins
  EXPECT_EQ(interval_overrides(nullptr, set), set);
}

}  // namespace
}  // namespace cimsim
