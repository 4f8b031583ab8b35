// Whether a data set suits a model: its images' shape is the bundle's input and its labels are among
// the bundle's classes. One rule for the simulator (cimsim run, calibrate) and the trainer.
#pragma once

#include <string>

#include "bundle/model_bundle.h"
#include "data/dataset.h"

namespace cimsim {

// InputError "`blame`: the model takes CxHxW images but NAME has ...; `fix`" or "`blame`: the model
// has classes: N but NAME holds label L (image i); `fix`".
void check_data_fits(const ModelBundle& bundle, const data::Dataset& data, const std::string& blame,
                     const std::string& fix);

}  // namespace cimsim
