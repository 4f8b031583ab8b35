// The shift-add accumulator of a macro: every conversion result of slice s in phase p is
// weighted by 2^(p * dac_bits + s * cell_bits) and added to its output's register, optionally
// saturating at accumulator_bits. Additions overlap the conversions; the final result is ready
// shift_add_cycles after the last conversion of the MVM.
#pragma once

#include <systemc>

#include "macro_state.h"

namespace cimsim {

class ShiftAdd : public sc_core::sc_module {
 public:
  ShiftAdd(sc_core::sc_module_name name, MacroState& state, sc_core::sc_event& done);

  // Adds scale * value (analog subtraction) or scale * (value - minus) (digital) to `count`
  // registers of one output (consecutive vectors), saturating if configured; `minus` may be null.
  // The caller counts the operations (count, or 2 * count with `minus`).
  void accumulate(double* registers, int count, double scale, const double* value, const double* minus) const;
  bool saturates() const { return saturation_ > 0; }
  // Called by the ADC bank when the last step has been converted.
  void last_conversion_done() { last_.notify(sc_core::SC_ZERO_TIME); }

 private:
  void run();
  MacroState& state_;
  sc_core::sc_event& done_;
  sc_core::sc_event last_;
  double saturation_ = 0;  // 0: none
};

}  // namespace cimsim
