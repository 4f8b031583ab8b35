#include "input_digits.h"

namespace cimsim {

const DigitMatrix& InputDigits::get(const MvmJob& job, const RowGroup& group, int group_index, int phase,
                                    int dac_bits) {
  if (!valid_ || job.serial != serial_) {
    digits_.clear();
    valid_ = true;
    serial_ = job.serial;
  }
  const auto key = std::make_pair(group_index, phase);
  auto it = digits_.find(key);
  if (it != digits_.end()) return it->second;
  DigitMatrix& d = digits_[key];
  const int shift = phase * dac_bits;
  const int mask = (1 << dac_bits) - 1;
  d.resize(job.batch, group.size);
  for (int k = 0; k < group.size; ++k) {
    const uint16_t* x = job.inputs->col(group.begin + k).data() + job.first_vector;
    float* out = d.col(k).data();
    for (int b = 0; b < job.batch; ++b) out[b] = float((x[b] >> shift) & mask);
  }
  return d;
}

}  // namespace cimsim
