// The input DACs of a macro: for each (row group, phase) step they drive the digits
// x_p = (x >> p * dac_bits) & (2^dac_bits - 1) of the group's rows. Driving takes no cycles of
// its own (it is part of array_cycles); the DAC runs one step ahead of the array.
#pragma once

#include <systemc>

#include "macro_state.h"

namespace cimsim {

class Dac : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<Step> to_array{"to_array"};

  Dac(sc_core::sc_module_name name, MacroState& state, sc_core::sc_event& start);

 private:
  void run();
  MacroState& state_;
  sc_core::sc_event& start_;
};

}  // namespace cimsim
