// The input DACs of a macro: for each (row group, phase) step of a job they drive the digits
// x_p = (x >> p * dac_bits) & (2^dac_bits - 1) of the group's rows. Driving takes no cycles of
// its own (it is part of array_cycles); the DAC runs one step ahead of the array, since its
// output FIFO holds one step.
#pragma once

#include <systemc>
#include <vector>

#include "macro_ports.h"

namespace cimsim {

struct DacConfig {
  std::vector<Step> steps;  // one MVM's steps, in order (MacroNumerics::steps())
};

class Dac : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<JobToken> jobs{"jobs"};
  sc_core::sc_fifo_out<StepToken> to_array{"to_array"};

  Dac(sc_core::sc_module_name name, DacConfig config);

 private:
  void run();
  DacConfig config_;
};

}  // namespace cimsim
