// The typed statistics documents (io/json_record.h, stats/stats_records.h, tools/result_records.h):
// written and read back through one field list, strict about what they read, and documented.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "../../tools/result_records.h"
#include "../support/test_configs.h"
#include "core/error.h"
#include "stats/stats_records.h"

namespace cimsim {
namespace {

RunStats sample_run() {
  RunStats s;
  s.cimsim_version = "0.1.0";
  s.seed = 7;
  s.inputs = {"hw.yaml", "model", "fashion-mnist", "test"};
  testing::HwParams p;
  p.adc_bits = 3;
  s.config = testing::make_hw(p);
  s.model = "tiny";
  s.images = 10;
  s.correct = 7;
  s.accuracy = 0.7;
  s.energy_pj = {1, 2, 3, 4, 5, 15};
  NetworkLayerStats& digital = s.layers.emplace_back();
  digital.name = "flatten";
  digital.type = "flatten";
  NetworkLayerStats& cim = s.layers.emplace_back();
  cim.name = "fc1";
  cim.type = "linear";
  cim.cim.emplace();
  cim.cim->mvms = 10;
  cim.cim->error.std = 0.25;
  cim.cim->error.sqnr_db.value = 31.5;
  cim.cim->partial_sum_histogram.counts = {1, 2, 3};
  cim.cim->energy_events.cell_reads = 1234;
  return s;
}

std::string schema_error(const nlohmann::json& j) {
  try {
    from_json_record<RunStats>(j);
  } catch (const SchemaError& e) {
    return e.what();
  }
  return "no error";
}

TEST(StatsRecords, WriteThenReadGivesTheSameDocument) {
  const nlohmann::json j = to_json_record(sample_run());
  EXPECT_EQ(j["layers"][1]["cim"]["error"]["sqnr_db"], 31.5);
  EXPECT_FALSE(j["layers"][0].contains("cim"));  // optional: left out
  EXPECT_EQ(j["config"]["macro"]["adc_bits"], 3);
  const RunStats back = from_json_record<RunStats>(j);
  EXPECT_EQ(back.layers.size(), 2u);
  EXPECT_FALSE(back.layers[0].cim.has_value());
  EXPECT_EQ(back.layers[1].cim->energy_events.cell_reads, 1234);
  EXPECT_EQ(back.config.macro.adc_bits, 3);
  EXPECT_EQ(to_json_record(back).dump(), j.dump());
  // Nullable: written as null, read back empty.
  nlohmann::json no_sqnr = j;
  no_sqnr["layers"][1]["cim"]["error"]["sqnr_db"] = nullptr;
  EXPECT_FALSE(from_json_record<RunStats>(no_sqnr).layers[1].cim->error.sqnr_db.value.has_value());
}

TEST(StatsRecords, ReadingNamesTheBadField) {
  const nlohmann::json good = to_json_record(sample_run());
  nlohmann::json j = good;
  j["layers"][1]["cim"]["error"].erase("std");
  EXPECT_EQ(schema_error(j), "layers[1].cim.error.std: missing");
  j = good;
  j["layers"][1]["cim"]["error"]["stdev"] = 1.0;
  EXPECT_EQ(schema_error(j), "layers[1].cim.error.stdev: unknown field");
  j = good;
  j["images"] = 10.5;
  EXPECT_EQ(schema_error(j), "images: expected an integer");
  j = good;
  j["seed"] = -1;
  EXPECT_EQ(schema_error(j), "seed: -1 is out of range");
  j = good;
  j["accuracy"] = "0.7";
  EXPECT_EQ(schema_error(j), "accuracy: expected a number");
  j = good;
  j["layers"] = nlohmann::json::object();
  EXPECT_EQ(schema_error(j), "layers: expected a list");
  j = good;
  j["config"]["macro"]["adc_bits"] = 40;  // the config is read as a config file is
  EXPECT_NE(schema_error(j).find("config: the resolved config:"), std::string::npos) << schema_error(j);
  EXPECT_NE(schema_error(j).find("macro.adc_bits: 40 is out of range"), std::string::npos) << schema_error(j);
  EXPECT_EQ(schema_error(nlohmann::json::array()), "the document: expected an object");
}

TEST(StatsRecords, LoadRunStatsNamesTheFile) {
  const std::string path = ::testing::TempDir() + "/stats_records_test.json";
  nlohmann::json j = to_json_record(sample_run());
  j.erase("model");
  std::ofstream(path) << j.dump();
  try {
    load_run_stats(path, "--hw-stats " + path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--hw-stats " + path + ": model: missing; give the stats JSON of cimsim run --stats");
  }
}

// The resolved config written into the documents reads back to the same config (every shipped
// preset, configs/hw/ and its subdirectories, with per-layer intervals).
TEST(StatsRecords, TheConfigRoundTrips) {
  int presets = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(CIMSIM_SOURCE_DIR) + "/configs/hw")) {
    if (entry.path().extension() != ".yaml") continue;
    ++presets;
    const std::string preset = entry.path().string();
    const HwConfig hw = load_hw_config(preset, {"adc.layers.conv1={lo: -3.5, hi: 12}", "adc.inl_lsb=[]"});
    nlohmann::json j;
    to_json(j, hw);
    HwConfig back;
    from_json(j, back);
    EXPECT_EQ(back.to_json().dump(), j.dump()) << preset;
  }
  EXPECT_GE(presets, 9);
}

// Every field of a document is named in its doc: the stats files in docs/stats.md, the sweep's
// results.json in docs/sweep.md, the flow report in docs/flow.md.
template <class T>
void expect_documented(const std::string& doc) {
  std::ifstream in(std::string(CIMSIM_SOURCE_DIR) + "/" + doc);
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty()) << doc;
  record::Schema schema;
  record::kind_of<T>(schema);
  for (const auto& [name, fields] : schema)
    for (const auto& f : fields)
      EXPECT_TRUE(std::regex_search(text.str(), std::regex("\\b" + f.key + "\\b")))
          << doc << " does not name " << name << "." << f.key;
}

TEST(StatsRecords, EveryFieldIsDocumented) {
  expect_documented<MvmStats>("docs/stats.md");
  expect_documented<RunStats>("docs/stats.md");
  expect_documented<cli::SweepResults>("docs/sweep.md");
  expect_documented<cli::FlowReport>("docs/flow.md");
}

}  // namespace
}  // namespace cimsim
