#include "bundle/data_fit.h"

#include <algorithm>

#include "core/error.h"

namespace cimsim {

void check_data_fits(const ModelBundle& bundle, const data::Dataset& data, const std::string& blame,
                     const std::string& fix) {
  const std::vector<int>& shape = bundle.input.shape;
  if (data.channels != shape[0] || data.height != shape[1] || data.width != shape[2]) {
    throw InputError(blame + ": the model takes " + std::to_string(shape[0]) + "x" + std::to_string(shape[1]) +
                     "x" + std::to_string(shape[2]) + " images but " + data.name + " has " +
                     std::to_string(data.channels) + "x" + std::to_string(data.height) + "x" +
                     std::to_string(data.width) + "; " + fix);
  }
  const auto top = std::max_element(data.labels.begin(), data.labels.end());
  if (top != data.labels.end() && *top >= bundle.classes) {
    throw InputError(blame + ": the model has classes: " + std::to_string(bundle.classes) + " but " + data.name +
                     " holds label " + std::to_string(*top) + " (image " +
                     std::to_string(top - data.labels.begin()) + "); " + fix);
  }
}

}  // namespace cimsim
