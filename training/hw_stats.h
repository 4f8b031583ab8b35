// The simulator's measured error fed back to stage 2 (docs/training.md, "Stage cim"): from the
// stats JSON of `cimsim run --stats` (docs/stats.md), each CIM layer's partial-sum noise for
// injection. The measured error e = v - y* of a layer (its std sigma_e, over every conversion)
// holds the ADC's own quantization error, which stage 2 models exactly, plus everything else
// (device variation, read noise, converter errors). With the quantization error taken as uniform
// over one step (variance step^2 / 12, step = (hi - lo) / (2^adc_bits - 1) of the interval and
// adc_bits the run used, 0 for an ideal converter), the injected standard deviation is
// sqrt(max(0, sigma_e^2 - step^2 / 12)).
#pragma once

#include <map>
#include <string>

namespace cimsim::train {

// Layer name -> injected partial-sum std (MAC units), with the adc_bits and interval of the run
// that measured it (the file's config). InputError naming the file and the field for a missing or
// malformed file.
std::map<std::string, double> partial_sum_noise_from_stats(const std::string& path);

}  // namespace cimsim::train
