// The area model (stats/area.h) against the closed form of docs/stats.md, "Area", and the `area`
// section's reading: optional as a whole, its keys required when it is there.
#include <gtest/gtest.h>

#include "../support/test_configs.h"
#include "core/error.h"
#include "stats/area.h"

namespace cimsim {
namespace {

const char* kArea =
    "area:\n  technology_nm: 32\n  cell_f2: 4\n  dac_um2_per_row: 2.5\n  mux_um2_per_column: 0.5\n"
    "  sample_hold_um2: 10\n  shift_add_um2: 40\n  digital_um2: 5000\n";

HwConfig with_area(const testing::HwParams& p, const std::string& adc_lines) {
  return parse_hw_config(testing::hw_yaml(p) + kArea + adc_lines, "t.yaml");
}

TEST(Area, MacroPartsFollowTheClosedForm) {
  testing::HwParams p;  // 16 x 24 cells, 4 columns per ADC: 6 ADCs, SAR at 5 bits
  const HwConfig hw = with_area(p, "  adc_um2: 300\n");
  const AreaFigures a = macro_area(hw);
  EXPECT_DOUBLE_EQ(a.cells, 16 * 24 * 4 * 0.032 * 0.032);
  EXPECT_DOUBLE_EQ(a.dac, 16 * 2.5);
  EXPECT_DOUBLE_EQ(a.mux, 24 * 0.5);
  EXPECT_DOUBLE_EQ(a.sample_hold, 6 * 10.0);
  EXPECT_DOUBLE_EQ(a.adc, 6 * 300.0);
  EXPECT_DOUBLE_EQ(a.shift_add, 6 * 40.0);
  EXPECT_DOUBLE_EQ(a.total, a.cells + a.dac + a.mux + a.sample_hold + a.adc + a.shift_add);
  const AreaFigures three = times(a, 3);
  EXPECT_DOUBLE_EQ(three.total, 3 * a.total);
  EXPECT_DOUBLE_EQ(three.adc, 3 * a.adc);
}

TEST(Area, AdcAreaByModelAndType) {
  testing::HwParams p;
  EXPECT_DOUBLE_EQ(adc_um2(with_area(p, "  adc_model: scaling\n  adc_um2_per_step: 2\n")),
                   2.0 * 32);  // SAR 2^5
  p.adc_type = "flash";
  EXPECT_DOUBLE_EQ(adc_um2(with_area(p, "  adc_model: scaling\n  adc_um2_per_step: 2\n")), 2.0 * 31);
  EXPECT_DOUBLE_EQ(adc_um2(with_area(p, "  adc_model: table\n  adc_um2_table: {4: 1, 5: 7.5}\n")), 7.5);
}

TEST(Area, TheSectionIsAllOrNothing) {
  testing::HwParams p;
  const HwConfig none = testing::make_hw(p);
  EXPECT_FALSE(none.area.given);
  EXPECT_FALSE(none.to_json().contains("area"));
  const HwConfig given = with_area(p, "  adc_um2: 300\n");
  EXPECT_TRUE(given.area.given);
  EXPECT_EQ(parse_hw_config(given.to_json().dump(1), "json").to_json(), given.to_json());
  auto error = [&](const std::string& adc_lines) {
    try {
      with_area(p, adc_lines);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("").find("area.adc_um2: missing: adc_model fixed needs it"), std::string::npos)
      << error("");
  EXPECT_NE(error("  adc_model: scaling\n").find("area.adc_um2_per_step: missing or 0"), std::string::npos);
  EXPECT_NE(error("  adc_model: table\n  adc_um2_table: {4: 1}\n").find("no entry for adc_bits = 5"),
            std::string::npos);
  EXPECT_NE(error("  adc_um2: 300\n  technology: 28\n").find("area.technology: unknown key"),
            std::string::npos);
  const std::string missing = [&] {
    try {
      parse_hw_config(testing::hw_yaml(p) + "area:\n  technology_nm: 32\n", "t.yaml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  }();
  EXPECT_NE(missing.find("area.cell_f2: missing required key"), std::string::npos) << missing;
}

}  // namespace
}  // namespace cimsim
