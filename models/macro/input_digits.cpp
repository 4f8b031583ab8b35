#include "input_digits.h"

#include <stdexcept>
#include <vector>

namespace cimsim {

const StepDigits& InputDigits::get(const MvmJob& job, const RowGroup& group, int group_index, int phase,
                                   int dac_bits, int first, int count, bool packed) {
  if (job.serial == 0) throw std::logic_error("InputDigits: a job without a serial number");
  Entry& entry = entries_[std::make_pair(group_index, phase)];
  StepDigits& d = entry.digits;
  if (entry.serial == job.serial && entry.first == first && (entry.packed || !packed)) return d;
  entry.serial = job.serial;
  entry.first = first;
  entry.packed = packed;
  const int shift = phase * dac_bits;
  const int mask = (1 << dac_bits) - 1;
  d.values.resize(count, group.size);
  std::vector<const uint16_t*> columns(std::size_t(group.size));
  for (int k = 0; k < group.size; ++k) {
    const uint16_t* x = job.inputs->col(group.begin + k).data() + job.first_vector + first;
    columns[std::size_t(k)] = x;
    float* out = d.values.col(k).data();
    for (int b = 0; b < count; ++b) out[b] = float((x[b] >> shift) & mask);
  }
  if (packed) d.packed = pack_digits(columns, count, shift, mask);
  return d;
}

}  // namespace cimsim
