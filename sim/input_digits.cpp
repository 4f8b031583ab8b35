#include "input_digits.h"

namespace cimsim {

const DigitMatrix& InputDigits::get(const MvmJob& job, const RowGroup& group, int group_index, int phase,
                                    int dac_bits) {
  if (valid_ && job.serial == serial_ && group_index == group_ && phase == phase_) return digits_;
  valid_ = true;
  serial_ = job.serial;
  group_ = group_index;
  phase_ = phase;
  const int shift = phase * dac_bits;
  const int mask = (1 << dac_bits) - 1;
  digits_.resize(job.batch, group.size);
  for (int k = 0; k < group.size; ++k) {
    const uint16_t* x = job.inputs->col(group.begin + k).data() + job.first_vector;
    float* d = digits_.col(k).data();
    for (int b = 0; b < job.batch; ++b) d[b] = float((x[b] >> shift) & mask);
  }
  return digits_;
}

}  // namespace cimsim
