#include "adc/adc_calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/error.h"

namespace cimsim {
namespace {

// (value, count) pairs of the occupied bins in ascending order, underflow and overflow included.
std::vector<std::pair<double, int64_t>> occupied(const PartialSumCounts& sums) {
  std::vector<std::pair<double, int64_t>> out;
  if (sums.underflow > 0) out.emplace_back(sums.first_edge, sums.underflow);
  for (std::size_t j = 0; j < sums.counts.size(); ++j)
    if (sums.counts[j] > 0) out.emplace_back(sums.value(j), sums.counts[j]);
  if (sums.overflow > 0)
    out.emplace_back(sums.first_edge + double(sums.counts.size()) * sums.bin_width, sums.overflow);
  return out;
}

double mse_of(const std::vector<std::pair<double, int64_t>>& values, double total, double lo, double hi,
              double levels) {
  const double step = (hi - lo) / levels;
  double sum = 0;
  for (const auto& [v, c] : values) {
    const double code = std::min(std::max(std::nearbyint((v - lo) / step), 0.0), levels);
    const double e = lo + code * step - v;
    sum += double(c) * e * e;
  }
  return sum / total;
}

}  // namespace

int64_t PartialSumCounts::total() const {
  int64_t t = underflow + overflow;
  for (int64_t c : counts) t += c;
  return t;
}

const std::vector<std::string>& calibration_method_names() {
  static const std::vector<std::string> names = {"minmax", "percentile", "mse"};
  return names;
}

CalibrationMethod parse_calibration_method(const std::string& name) {
  const auto& names = calibration_method_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) return CalibrationMethod(i);
  throw InputError("unknown calibration method '" + name + "'; choose minmax, percentile or mse");
}

const char* calibration_method_name(CalibrationMethod method) {
  return calibration_method_names()[std::size_t(method)].c_str();
}

double quantization_mse(const PartialSumCounts& sums, double lo, double hi, int adc_bits) {
  const int64_t total = sums.total();
  if (total == 0) return 0;
  return mse_of(occupied(sums), double(total), lo, hi, std::ldexp(1.0, adc_bits) - 1);
}

ClipFractions clip_fractions(const PartialSumCounts& sums, double lo, double hi) {
  ClipFractions f;
  const double total = double(sums.total());
  if (total == 0) return f;
  for (const auto& [v, c] : occupied(sums)) {
    if (v < lo) f.low += double(c);
    if (v > hi) f.high += double(c);
  }
  f.low /= total;
  f.high /= total;
  return f;
}

AdcInterval calibrate_interval(const PartialSumCounts& sums, const CalibrationSpec& spec) {
  if (!(spec.full_hi > spec.full_lo))
    throw std::invalid_argument("calibrate_interval: the full range must have full_hi > full_lo");
  if (spec.method == CalibrationMethod::kPercentile && !(spec.percentile > 0 && spec.percentile <= 100)) {
    throw InputError("percentile " + std::to_string(spec.percentile) +
                     " is outside (0, 100]; give the percent of partial sums to keep, e.g. 99.9");
  }
  const std::vector<std::pair<double, int64_t>> values = occupied(sums);
  const int64_t total = sums.total();
  if (total == 0) throw InputError("no partial sums were recorded for this layer; nothing to calibrate");
  double lo = values.front().first, hi = values.back().first;
  if (spec.method == CalibrationMethod::kPercentile) {
    // A whole number of partial sums (the 1e-9 keeps 99.4% of 1000 from rounding down to 2).
    const double allowed = std::floor((100.0 - spec.percentile) / 200.0 * double(total) + 1e-9);
    double below = 0;  // partial sums below values[i]
    for (const auto& [v, c] : values) {
      if (below > allowed) break;
      lo = v;
      below += double(c);
    }
    double above = 0;
    for (auto it = values.rbegin(); it != values.rend(); ++it) {
      if (above > allowed) break;
      hi = it->first;
      above += double(it->second);
    }
  } else if (spec.method == CalibrationMethod::kMse && hi > lo) {
    const double levels = std::ldexp(1.0, spec.adc_bits) - 1;
    double best = std::numeric_limits<double>::infinity(), best_lo = lo, best_hi = hi;
    auto search = [&](double lo_from, double lo_to, double hi_from, double hi_to, int points) {
      for (int a = 0; a < points; ++a) {
        const double l = std::max(spec.full_lo, lo_from + (lo_to - lo_from) * double(a) / double(points - 1));
        for (int b = 0; b < points; ++b) {
          const double h =
              std::min(spec.full_hi, hi_from + (hi_to - hi_from) * double(b) / double(points - 1));
          if (h <= l) continue;
          const double e = mse_of(values, double(total), l, h, levels);
          if (e < best) {
            best = e;
            best_lo = l;
            best_hi = h;
          }
        }
      }
    };
    const double span = hi - lo;
    double grid = span / 96;
    search(lo, hi, lo, hi, 97);
    for (int round = 0; round < 3; ++round) {
      const double l = best_lo, h = best_hi;
      search(l - grid, l + grid, h - grid, h + grid, 25);
      grid /= 12;
    }
    lo = best_lo;
    hi = best_hi;
  }
  lo = std::max(lo, spec.full_lo);
  hi = std::min(hi, spec.full_hi);
  if (hi <= lo) {  // one value (or all outside the range): a unit-wide interval around it, inside the range
    const double centre = std::min(std::max(lo, spec.full_lo + 0.5), spec.full_hi - 0.5);
    lo = std::max(spec.full_lo, centre - 0.5);
    hi = std::min(spec.full_hi, centre + 0.5);
  }
  AdcInterval interval;
  interval.full = false;
  interval.lo = lo;
  interval.hi = hi;
  return interval;
}

bool move_zero_onto_level(double& lo, double& hi, int adc_bits, double full_lo, double full_hi) {
  const double n = std::ldexp(1.0, adc_bits) - 1;
  const double step = (hi - lo) / n;
  const double k = std::nearbyint(-lo / step);  // the level that becomes 0 (round half to even)
  if (!(k >= 0 && k <= n)) return false;
  const double new_lo = -k * step, new_hi = (n - k) * step;
  if (new_lo < full_lo || new_hi > full_hi) return false;
  lo = new_lo;
  hi = new_hi;
  return true;
}

}  // namespace cimsim
