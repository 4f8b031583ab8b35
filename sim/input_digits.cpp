#include "input_digits.h"

#include <vector>

namespace cimsim {

std::pair<StepDigits*, bool> InputDigits::slot(const MvmJob& job, int group_index, int phase) {
  if (!valid_ || job.serial != serial_) {
    digits_.clear();
    valid_ = true;
    serial_ = job.serial;
  }
  const auto [it, created] = digits_.try_emplace(std::make_pair(group_index, phase));
  return {&it->second, created};
}

void InputDigits::fill(StepDigits& d, const MvmJob& job, const RowGroup& group, int phase,
                       int dac_bits) const {
  const int shift = phase * dac_bits;
  const int mask = (1 << dac_bits) - 1;
  d.values.resize(job.batch, group.size);
  std::vector<const uint16_t*> columns(std::size_t(group.size));
  for (int k = 0; k < group.size; ++k) {
    const uint16_t* x = job.inputs->col(group.begin + k).data() + job.first_vector;
    columns[std::size_t(k)] = x;
    float* out = d.values.col(k).data();
    for (int b = 0; b < job.batch; ++b) out[b] = float((x[b] >> shift) & mask);
  }
  if (packed_) d.packed = pack_digits(columns, job.batch, shift, mask);
}

const StepDigits& InputDigits::get(const MvmJob& job, const RowGroup& group, int group_index, int phase,
                                   int dac_bits) {
  const auto [d, created] = slot(job, group_index, phase);
  if (created) fill(*d, job, group, phase, dac_bits);
  return *d;
}

void InputDigits::prepare(const MvmJob& job, const LayerMapping& mapping, const RowTile& tile, int phases,
                          int dac_bits) {
  struct Entry {
    StepDigits* digits;
    const RowGroup* group;
    int phase;
  };
  std::vector<Entry> todo;
  for (int g = tile.first_group; g < tile.first_group + tile.num_groups; ++g) {
    for (int p = 0; p < phases; ++p) {
      const auto [d, created] = slot(job, g, p);
      if (created) todo.push_back({d, &mapping.groups[std::size_t(g)], p});
    }
  }
  const int count = int(todo.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int i = 0; i < count; ++i)
    fill(*todo[std::size_t(i)].digits, job, *todo[std::size_t(i)].group, todo[std::size_t(i)].phase,
         dac_bits);
}

}  // namespace cimsim
