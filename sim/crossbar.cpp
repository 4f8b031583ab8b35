#include "crossbar.h"

#include <cmath>

#include "integer_gemm.h"

namespace cimsim {

Crossbar::Crossbar(sc_core::sc_module_name name, MacroState& state)
    : sc_core::sc_module(name), state_(state), read_noise_{state.hw->device.read_noise_sigma} {
  SC_HAS_PROCESS(Crossbar);
  SC_THREAD(run);
}

bool Crossbar::compute(const Step& step, const MvmJob& job, int first, const StepDigits& step_digits,
                       Scratch& scratch) const {
  const RowGroup& group = state_.mapping->groups[std::size_t(step.group)];
  const int local_row = group.begin - state_.row_tile->row_begin;
  const int count = int(step_digits.values.rows());
  const DigitMatrix& digits = step_digits.values;
  Eigen::MatrixXf& y = scratch.y;
  Eigen::MatrixXf& y_ideal = scratch.y_ideal;
  // The ideal partial sums (target levels, no noise) when they differ from y.
  auto ideal_sums = [&] {
    if (!state_.ideal_packed.empty()) {
      byte_gemm(step_digits.packed, 0, count, state_.ideal_packed[std::size_t(step.local_group)], y_ideal);
    } else {
      integer_gemm(digits, state_.tile.ideal.middleRows(local_row, group.size), y_ideal);
    }
  };
  bool separate_ideal = false;
  if (state_.tile.programmed_scaled.size() > 0) {
    // Fixed point scaled to integers: the float GEMM is exact (sums below 2^24), and so is the
    // power-of-two scaling back; identical to the double path below.
    integer_gemm(digits, state_.tile.programmed_scaled.middleRows(local_row, group.size), y);
    y *= float(std::ldexp(1.0, -kConductanceFractionBits));
    ideal_sums();
    separate_ideal = true;
  } else if (state_.tile.programmed.size() > 0) {
    // Fixed-point conductances times integer digits: every product and partial sum is exact in
    // double, so y does not depend on the GEMM's summation order; rounded once to float.
    scratch.digits_double = digits.cast<double>();
    scratch.y_exact.noalias() =
        scratch.digits_double * state_.tile.programmed.middleRows(local_row, group.size);
    y = scratch.y_exact.cast<float>();
    ideal_sums();
    separate_ideal = true;
  } else {
    integer_gemm(digits, state_.tile.actual.middleRows(local_row, group.size), y);
  }
  if (!separate_ideal && read_noise_.sigma > 0) {
    y_ideal = y;
    separate_ideal = true;
  }
  if (read_noise_.sigma > 0) {
    const CounterRng rng(state_.seed, {uint64_t(RngTag::kReadNoise), state_.layer_id, uint64_t(step.group),
                                       uint64_t(step.phase)});
    const uint64_t base = state_.noise_base(job, first);
    const uint64_t stride = state_.noise_stride(job);
    for (int c = 0; c < y.cols(); ++c)
      read_noise_.apply(y.col(c).data(), count, rng, base + uint64_t(c), stride);
  }
  return separate_ideal;
}

void Crossbar::run() {
  const MacroConfig& m = state_.hw->macro;
  const int64_t array_cycles = state_.hw->timing.array_cycles;
  const int64_t bitlines = int64_t(state_.col_tile->col_count) * m.bitlines_per_output();
  while (true) {
    const Step step = from_dac->read();
    state_.shadow_group = step.group;
    state_.shadow_phase = step.phase;
    if (state_.trace && state_.window.contains(sc_core::sc_time_stamp())) {
      state_.trace->row_group.write(step.group);
      state_.trace->phase.write(step.phase);
    }
    const int rows = state_.mapping->groups[std::size_t(step.group)].size;
    state_.stats.events.cell_reads += int64_t(rows) * bitlines * state_.job->batch;
    wait(state_.cycles(array_cycles));
    to_adc->write(step);
    // The bit lines hold this step until the sample-and-hold takes it.
    while (to_adc->num_free() == 0) wait(to_adc->data_read_event());
  }
}

}  // namespace cimsim
