// The crossbar array: bit-sliced differential weights on bit-line pairs. For one (row group,
// phase) step it forms every ADC input's partial sum y = sum_k x_p[k] * G[k, signal], adds read
// noise, and holds the result on the bit lines for array_cycles before handing it to the ADC
// bank's sample-and-hold; it starts the next step only once the sample-and-hold has taken this
// one (docs/timing.md). Numerically the batch of lock-step replicas is one GEMM per step; the ADC
// bank asks for it in cache-sized slices of the batch (compute()), which changes no value.
#pragma once

#include <systemc>

#include "device/read_noise.h"
#include "input_digits.h"
#include "macro_state.h"

namespace cimsim {

class Crossbar : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<Step> from_dac{"from_dac"};
  sc_core::sc_fifo_out<Step> to_adc{"to_adc"};

  Crossbar(sc_core::sc_module_name name, MacroState& state);

  // Working memory of one compute() call: each thread that computes steps has its own.
  struct Scratch {
    Eigen::MatrixXf y, y_ideal;
    Eigen::MatrixXd digits_double, y_exact;
  };

  // Bit-line values of `step` for vectors [first, first + count) of `job`, whose digits are
  // `digits`: scratch.y with the programmed conductances and read noise; scratch.y_ideal with the
  // target levels and no noise, filled only when that differs from y (then returns true).
  // Thread-safe for distinct scratches.
  bool compute(const Step& step, const MvmJob& job, int first, const StepDigits& digits,
               Scratch& scratch) const;

 private:
  void run();
  MacroState& state_;
  ReadNoise read_noise_;
};

}  // namespace cimsim
