#include "input_digits.h"

#include <stdexcept>
#include <vector>

namespace cimsim {

const StepDigits& InputDigits::get(const MvmJob& job, const RowGroup& group, int group_index, int phase,
                                   int dac_bits, int first, int count, DigitForms forms) {
  if (job.serial == 0) throw std::logic_error("InputDigits: a job without a serial number");
  Entry& entry = entries_[std::make_pair(group_index, phase)];
  StepDigits& d = entry.digits;
  const bool held = (entry.forms.values || !forms.values) && (entry.forms.packed || !forms.packed);
  if (entry.serial == job.serial && entry.first == first && held) return d;
  entry.serial = job.serial;
  entry.first = first;
  entry.forms = forms;
  const int shift = phase * dac_bits;
  const int mask = (1 << dac_bits) - 1;
  if (forms.values) d.values.resize(count, group.size);
  d.nonzero.resize(std::size_t(group.size));
  std::vector<const uint16_t*> columns(std::size_t(group.size));
  for (int k = 0; k < group.size; ++k) {
    const uint16_t* x = job.inputs->col(group.begin + k).data() + job.first_vector + first;
    columns[std::size_t(k)] = x;
    int32_t nonzero = 0;
    for (int b = 0; b < count; ++b) nonzero += ((x[b] >> shift) & mask) != 0;
    d.nonzero[std::size_t(k)] = nonzero;
    if (!forms.values) continue;
    float* out = d.values.col(k).data();
    for (int b = 0; b < count; ++b) out[b] = float((x[b] >> shift) & mask);
  }
  if (forms.packed) pack_digits(columns, count, shift, mask, d.packed);
  return d;
}

}  // namespace cimsim
