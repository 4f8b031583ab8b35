#include "stats/stats_records.h"

#include "core/error.h"
#include "io/text_file.h"

namespace cimsim {

RunStats load_run_stats(const std::string& path, const std::string& what) {
  const std::string hint = "; give the stats JSON of cimsim run --stats";
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_text_file(path, "cannot open the file" + hint));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(what + ": not JSON (" + e.what() + ")" + hint);
  }
  try {
    return from_json_record<RunStats>(doc);
  } catch (const SchemaError& e) {
    throw InputError(what + ": " + e.what() + hint);
  }
}

}  // namespace cimsim
