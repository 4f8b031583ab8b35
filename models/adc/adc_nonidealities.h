// Static and dynamic errors of a converter, referred to its input and expressed in LSB of the
// configured interval, the way SAR and flash datasheets and B. Murmann's ADC performance survey
// quote them: offset, gain error, input-referred thermal noise (std in LSB) and integral
// non-linearity per code. All default to 0 (an ideal converter's transfer curve).
#pragma once

#include <cstddef>
#include <vector>

namespace cimsim {

struct AdcNonidealities {
  double offset_lsb = 0;
  double gain_error = 0;
  double thermal_sigma_lsb = 0;
  std::vector<double> inl_lsb;  // empty or one entry per code

  bool none() const {
    return offset_lsb == 0 && gain_error == 0 && thermal_sigma_lsb == 0 && inl_lsb.empty();
  }
  // The voltage the comparators see: ((1 + gain) y + offset step) + (thermal step) z.
  double input(double y, double step, double z) const {
    return (1.0 + gain_error) * y + offset_lsb * step + thermal_sigma_lsb * step * z;
  }
  // The level a code stands for, in codes: code + INL(code).
  double level(double code) const { return inl_lsb.empty() ? code : code + inl_lsb[std::size_t(code)]; }
};

}  // namespace cimsim
