#include "hw_stats.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace cimsim::train {

std::map<std::string, double> partial_sum_noise_from_stats(const std::string& path,
                                                           const MacroConfig& macro) {
  std::ifstream in(path);
  if (!in)
    throw InputError("--hw-stats " + path +
                     ": cannot open the file; give the stats JSON of cimsim run --stats");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("--hw-stats " + path + ": not JSON (" + e.what() +
                     "); give the stats JSON of cimsim run --stats");
  }
  if (!doc.contains("layers") || !doc["layers"].is_array())
    throw InputError("--hw-stats " + path + ": no 'layers' list; give the stats JSON of cimsim run --stats");
  // The converter of the run that measured the error (its resolved config, else the trainer's).
  int adc_bits = macro.adc_bits;
  bool ideal = false;
  if (doc.contains("config") && doc["config"].is_object()) {
    const auto& config = doc["config"];
    if (config.contains("macro")) adc_bits = config["macro"].value("adc_bits", adc_bits);
    if (config.contains("adc")) ideal = config["adc"].value("ideal", false);
  }
  const double levels = double((1 << adc_bits) - 1);
  std::map<std::string, double> sigma;
  for (const auto& layer : doc["layers"]) {
    if (!layer.contains("cim")) continue;
    const std::string name = layer.value("name", "");
    try {
      const auto& cim = layer.at("cim");
      const double std_e = cim.at("error").at("std").get<double>();
      const double lo = cim.at("adc_interval").at("lo").get<double>();
      const double hi = cim.at("adc_interval").at("hi").get<double>();
      const double step = ideal ? 0.0 : (hi - lo) / levels;
      sigma[name] = std::sqrt(std::max(0.0, std_e * std_e - step * step / 12.0));
    } catch (const nlohmann::json::exception& e) {
      throw InputError("--hw-stats " + path + ": layer '" + name + "': " + e.what() +
                       "; give the stats JSON of cimsim run --stats");
    }
  }
  if (sigma.empty()) throw InputError("--hw-stats " + path + ": no CIM layer in 'layers'");
  return sigma;
}

}  // namespace cimsim::train
