// A model bundle over a data set on the simulated chip, as `cimsim run` and the Python module's
// cimsim.run both do it: the checks before the simulation, the warnings after it, and the
// statistics document (docs/stats.md) from its report.
#pragma once

#include <cstdint>
#include <string>

#include "bundle/model_bundle.h"
#include "config/hw_config.h"
#include "data/dataset.h"
#include "network_runner.h"
#include "stats/stats_records.h"

namespace cimsim::cli {

struct ModelRunResult {
  NetworkReport report;
  RunStats stats;       // wall_seconds: the simulation's; a caller may count more
  int64_t macs = 0;     // per image
};

// Runs `bundle` over `data` on `hw` with `options` (seed, batch, histograms, trace, progress) and
// fills the statistics document; `inputs` names what was run (the document's `inputs`), and
// `shape_only` says the weights are random. Warns where the run is almost surely misconfigured;
// InputError when the logits are not finite.
ModelRunResult run_model(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& data,
                         const NetworkOptions& options, const RunInputs& inputs, bool shape_only);

// The bundle's multiply-accumulates per image (a grouped conv's real ones).
int64_t macs_per_image(const ModelBundle& bundle);

}  // namespace cimsim::cli
