// A self-checking testbench per SystemC module of a macro (Dac, Crossbar, AdcBank, ShiftAdd),
// each driven alone through its ports against a reference model of docs/timing.md written
// here. Each TEST elaborates its own testbench and runs in its own process (ctest).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "adc_bank.h"
#include "crossbar.h"
#include "dac.h"
#include "shift_add.h"

namespace cimsim {
namespace {

const sc_core::sc_time kCycle(10, sc_core::SC_NS);

int64_t cycle_of(const sc_core::sc_time& t) { return int64_t(t / kCycle); }

TraceWindow window_from(int64_t from) {
  TraceWindow w;
  w.enabled = true;
  w.from_cycle = from;
  w.period = kCycle;
  return w;
}

// A macro's steps: `groups` row groups x `phases` phases.
std::vector<Step> steps_of(int groups, int phases, int first_group = 0) {
  std::vector<Step> steps;
  for (int g = 0; g < groups; ++g)
    for (int p = 0; p < phases; ++p)
      steps.push_back(Step{int(steps.size()), g, first_group + g, p, g + 1 == groups && p + 1 == phases});
  return steps;
}

template <typename T>
const sc_core::sc_signal<T>& signal_named(const std::string& name) {
  auto* s = dynamic_cast<sc_core::sc_signal<T>*>(sc_core::sc_find_object(name.c_str()));
  if (!s) throw std::runtime_error("no signal " + name);
  return *s;
}

// ---- Dac: a job in, its steps out in order, each carrying the job and its step's probe.
struct DacBench : sc_core::sc_module {
  sc_core::sc_fifo<JobToken> jobs{"jobs", 1};
  sc_core::sc_fifo<StepToken> out{"out", 1};
  Dac dac;
  MvmJob job;
  std::vector<StepProbe> probe;
  std::vector<std::pair<StepToken, int64_t>> seen;  // token, cycle read
  SC_HAS_PROCESS(DacBench);
  DacBench(sc_core::sc_module_name n, const std::vector<Step>& steps)
      : sc_module(n), dac("dac", DacConfig{steps}) {
    dac.jobs(jobs);
    dac.to_array(out);
    probe.resize(steps.size());
    job.serial = 42;
    SC_THREAD(source);
    SC_THREAD(sink);
  }
  void source() {
    wait(5 * kCycle);
    jobs.write(JobToken{job.serial, &probe});
  }
  void sink() {
    while (true) {
      seen.push_back({out.read(), cycle_of(sc_core::sc_time_stamp())});
      wait(3 * kCycle);  // a slow consumer: the DAC must wait for it
    }
  }
};

TEST(DacModule, DrivesTheJobsStepsInOrderOneAhead) {
  const std::vector<Step> steps = steps_of(3, 2, 4);
  DacBench bench("bench", steps);
  sc_core::sc_start(200 * kCycle);
  ASSERT_EQ(bench.seen.size(), steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const StepToken& t = bench.seen[i].first;
    EXPECT_EQ(t.step, steps[i]) << i;
    EXPECT_EQ(t.serial, 42u);
    EXPECT_EQ(t.probe, &bench.probe[i]);
    EXPECT_EQ(bench.seen[i].second, 5 + 3 * int64_t(i)) << "read " << i;  // nothing before the job
  }
  EXPECT_TRUE(bench.seen.back().first.step.last);
}

// ---- Crossbar: against the array/sample-and-hold recurrence of docs/timing.md, with an ADC
// bank stand-in that holds step i for t_b[i % size] cycles (varying, so that a crossbar which
// evaluated the next step before the sample-and-hold took this one would be seen).
struct CrossbarBench : sc_core::sc_module {
  sc_core::sc_fifo<StepToken> in{"in", 1};
  sc_core::sc_fifo<StepToken> held{"held", 1};
  Crossbar crossbar;
  std::vector<Step> steps;
  std::vector<int64_t> t_b;
  std::vector<int64_t> taken;  // S_B(i)
  SC_HAS_PROCESS(CrossbarBench);
  CrossbarBench(sc_core::sc_module_name n, int64_t t_a, std::vector<int64_t> t_b_, const std::vector<Step>& s,
                const TraceWindow& w)
      : sc_module(n), crossbar("crossbar", CrossbarConfig{kCycle, t_a}, w), steps(s), t_b(t_b_) {
    crossbar.from_dac(in);
    crossbar.to_adc(held);
    SC_THREAD(source);
    SC_THREAD(sink);
  }
  void source() {
    for (const Step& s : steps) in.write(StepToken{s, 1, nullptr});
  }
  void sink() {
    while (true) {
      const StepToken t = held.read();
      taken.push_back(cycle_of(sc_core::sc_time_stamp()));
      if (t.step.index != int(taken.size()) - 1) throw std::runtime_error("steps out of order");
      wait(double(t_b[std::size_t(t.step.index) % t_b.size()]) * kCycle);
    }
  }
};

// docs/timing.md: E_A(i) = S_A(i) + t_a, S_B(i) = max(E_A(i), E_B(i-1)), E_B = S_B + t_b,
// S_A(i+1) = max(E_A(i), S_B(i)).
std::vector<int64_t> bank_starts(int n, int64_t t_a, const std::vector<int64_t>& t_b) {
  std::vector<int64_t> s_b;
  int64_t s_a = 0, e_b = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t e_a = s_a + t_a;
    s_b.push_back(i == 0 ? e_a : std::max(e_a, e_b));
    e_b = s_b.back() + t_b[std::size_t(i) % t_b.size()];
    s_a = std::max(e_a, s_b.back());
  }
  return s_b;
}

class CrossbarModule : public ::testing::TestWithParam<std::pair<int, std::vector<int64_t>>> {};

TEST_P(CrossbarModule, HoldsEachStepUntilTheSampleAndHoldTakesIt) {
  const auto& [t_a, t_b] = GetParam();
  const std::vector<Step> steps = steps_of(4, 2);
  CrossbarBench bench("bench", t_a, t_b, steps, TraceWindow{});
  sc_core::sc_start(500 * kCycle);
  EXPECT_EQ(bench.taken, bank_starts(int(steps.size()), t_a, t_b));
}

INSTANTIATE_TEST_SUITE_P(Timing, CrossbarModule,
                         ::testing::Values(std::pair{1, std::vector<int64_t>{5}},
                                           std::pair{5, std::vector<int64_t>{1}},
                                           std::pair{3, std::vector<int64_t>{3}},
                                           std::pair{2, std::vector<int64_t>{0}},
                                           std::pair{3, std::vector<int64_t>{6, 1, 1}},
                                           std::pair{2, std::vector<int64_t>{1, 7, 0, 2}}));

TEST(CrossbarModuleTrace, ShowsTheStepBeingEvaluatedInsideTheWindow) {
  const std::vector<Step> steps = steps_of(3, 2, 10);
  CrossbarBench bench("bench", 4, {2}, steps, window_from(9));  // opens during step 2 (cycles 8-11)
  const auto& group = signal_named<int>("bench.crossbar.row_group");
  const auto& phase = signal_named<int>("bench.crossbar.phase");
  sc_core::sc_start(6 * kCycle);  // step 1 under way, before the window
  EXPECT_EQ(group.read(), 0) << "written before the window opened";
  sc_core::sc_start(3.5 * kCycle);  // cycle 9.5: the window opened during step 2 (group 11, phase 0)
  EXPECT_EQ(group.read(), 11) << "the step under way shows when the window opens";
  EXPECT_EQ(phase.read(), 0);
  sc_core::sc_start(1.5 * kCycle);  // back to cycle 11
  sc_core::sc_start(6 * kCycle);    // cycle 17: step 4 (group 12, phase 0) started at 16
  EXPECT_EQ(group.read(), 12);
  EXPECT_EQ(phase.read(), 0);
  sc_core::sc_start(4 * kCycle);  // cycle 21: step 5 (group 12, phase 1) started at 20
  EXPECT_EQ(group.read(), 12);
  EXPECT_EQ(phase.read(), 1);
}

// ---- AdcBank: conversions_in_sequence x cycles_per_conversion per step, back to back, and in
// the accurate mode, cycle by cycle, what each traced converter shows.
struct AdcBench : sc_core::sc_module {
  sc_core::sc_fifo<StepToken> in{"in", 1};
  sc_core::sc_fifo<StepToken> out{"out", 1};
  AdcBank adc;
  std::vector<Step> steps;
  std::vector<StepProbe> probes;
  bool with_probes;
  std::vector<int64_t> done;  // cycle each step reached the shift-add
  SC_HAS_PROCESS(AdcBench);
  AdcBench(sc_core::sc_module_name n, const AdcBankConfig& c, const std::vector<Step>& s,
           const TraceWindow& w, bool probes_on)
      : sc_module(n), adc("adc_bank", c, w), steps(s), with_probes(probes_on) {
    adc.from_array(in);
    adc.to_shift_add(out);
    for (std::size_t i = 0; i < s.size(); ++i) {
      StepProbe p;
      for (int input = 0; input < c.signals; ++input) {
        p.codes.push_back((3 * input + 5 + 7 * int(i)) % (1 << c.adc_bits));
        p.analog.push_back(float(input) + 0.25f + float(i));
        p.values.push_back(0.5 * p.codes.back() - 3.0);
      }
      probes.push_back(p);
    }
    SC_THREAD(source);
    SC_THREAD(sink);
  }
  void source() {
    for (std::size_t i = 0; i < steps.size(); ++i)
      in.write(StepToken{steps[i], 1, with_probes ? &probes[i] : nullptr});
  }
  void sink() {
    while (true) {
      out.read();
      done.push_back(cycle_of(sc_core::sc_time_stamp()));
    }
  }
};

// A bank of `adcs` converters of `signals_per_adc` inputs each over `signals` inputs, SAR
// (adc_bits cycles a conversion) or flash (one), analog pairs (bit line 2c for input c) or not.
AdcBankConfig bank(int adcs, int signals_per_adc, int signals, int adc_bits, bool sar,
                   int bitline_stride = 1) {
  AdcBankConfig c;
  c.period = kCycle;
  c.adcs = adcs;
  c.signals_per_adc = signals_per_adc;
  c.signals = signals;
  c.adc_bits = adc_bits;
  c.sar = sar;
  c.bitline_stride = bitline_stride;
  return c;
}

TEST(AdcBankModule, ConvertsEachStepInSequenceBackToBack) {
  const AdcBankConfig c = bank(1, 3, 3, 5, true);  // three inputs per ADC, 5-cycle SAR conversions
  const std::vector<Step> steps = steps_of(2, 3);
  AdcBench bench("bench", c, steps, TraceWindow{}, false);
  sc_core::sc_start(500 * kCycle);
  ASSERT_EQ(bench.done.size(), steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(bench.done[i], 15 * int64_t(i + 1)) << i;
}

TEST(AdcBankModule, AccurateModeShowsEveryCycleOfEachTracedConverter) {
  // Two 4-bit SAR converters of three inputs each over five inputs (analog pairs: bit line 2c):
  // ADC 0 converts inputs 0, 1, 2; ADC 1 inputs 3, 4 and idles in the third slot.
  const AdcBankConfig c = bank(2, 3, 5, 4, true, 2);
  TraceWindow w = window_from(0);
  w.all_adcs = true;
  const std::vector<Step> steps = steps_of(1, 2);
  AdcBench bench("bench", c, steps, w, true);
  const auto& busy = signal_named<bool>("bench.adc_bank.adc_busy");
  const auto& step = signal_named<int>("bench.adc_bank.adc_step");
  sc_core::sc_start(kCycle / 2);
  // Step i converts slot j over cycles [12 i + 4 j, 12 i + 4 j + 4); trial k in cycle + k.
  for (int cycle = 0; cycle < 30; ++cycle, sc_core::sc_start(kCycle)) {
    const bool converting = cycle < 24;
    const int i = cycle / 12, j = (cycle % 12) / 4, k = cycle % 4;
    EXPECT_EQ(busy.read(), converting) << cycle;
    EXPECT_EQ(step.read(), converting ? i : -1) << cycle;
    for (int a = 0; a < 2; ++a) {
      const std::string p = "bench.adc_bank.adc" + std::to_string(a) + "_";
      const int input = a * 3 + j;
      const bool idle = !converting || input >= 5;
      EXPECT_EQ(signal_named<int>(p + "bitline").read(), idle ? -1 : 2 * input) << cycle << " adc " << a;
      if (!idle) {
        const StepProbe& probe = bench.probes[std::size_t(i)];
        const int code = probe.codes[std::size_t(input)];
        EXPECT_EQ(signal_named<double>(p + "analog").read(), double(probe.analog[std::size_t(input)]));
        const int bit = 3 - k;
        EXPECT_EQ(signal_named<int>(p + "sar").read(), ((code >> (bit + 1)) << (bit + 1)) | (1 << bit))
            << cycle << " adc " << a;
      }
      // The code of the conversion that ended last, with a one-cycle valid strobe at its end.
      const int ended = cycle / 4 - 1;  // conversions end at cycles 4, 8, ..., 24
      const int ended_step = ended / 3, ended_slot = ended % 3;
      const bool ended_here = cycle % 4 == 0 && ended >= 0 && ended < 6 && a * 3 + ended_slot < 5;
      EXPECT_EQ(signal_named<bool>(p + "valid").read(), ended_here) << cycle << " adc " << a;
      if (ended_here) {
        const StepProbe& probe = bench.probes[std::size_t(ended_step)];
        EXPECT_EQ(signal_named<int>(p + "code").read(), probe.codes[std::size_t(a * 3 + ended_slot)]);
        EXPECT_EQ(signal_named<double>(p + "value").read(), probe.values[std::size_t(a * 3 + ended_slot)]);
      }
    }
  }
  EXPECT_EQ(bench.done, (std::vector<int64_t>{12, 24}));
}

TEST(AdcBankModule, WindowOpeningMidConversionShowsItAsItStands) {
  // One 4-bit SAR converter of two inputs; step 0 converts input 0 over [0, 4), input 1 over
  // [4, 8). The window opens at cycle 6, in trial 2 of input 1.
  const AdcBankConfig c = bank(1, 2, 2, 4, true);
  AdcBench bench("bench", c, steps_of(1, 1), window_from(6), true);
  const StepProbe& probe = bench.probes[0];
  const std::string p = "bench.adc_bank.adc0_";
  sc_core::sc_start(5.5 * kCycle);
  EXPECT_EQ(signal_named<int>(p + "bitline").read(), -1) << "nothing is written before the window";
  sc_core::sc_start(1 * kCycle);  // cycle 6.5
  EXPECT_EQ(signal_named<int>(p + "bitline").read(), 1);
  EXPECT_EQ(signal_named<double>(p + "analog").read(), double(probe.analog[1]));
  const int code1 = probe.codes[1];
  EXPECT_EQ(signal_named<int>(p + "sar").read(), ((code1 >> 2) << 2) | 2);  // trial 2 sets bit 1
  EXPECT_EQ(signal_named<int>(p + "code").read(), probe.codes[0]) << "input 0's code, ready at cycle 4";
  EXPECT_FALSE(signal_named<bool>(p + "valid").read()) << "its strobe fell before the window";
  EXPECT_TRUE(signal_named<bool>("bench.adc_bank.adc_busy").read());
  EXPECT_EQ(signal_named<int>("bench.adc_bank.adc_step").read(), 0);
  sc_core::sc_start(2 * kCycle);  // cycle 8.5
  EXPECT_EQ(signal_named<int>(p + "code").read(), code1);
  EXPECT_TRUE(signal_named<bool>(p + "valid").read());
}

TEST(AdcBankModule, FlashConvertersShowACodeEveryCycle) {
  // Flash: one cycle per conversion, no SAR register; three inputs on one converter, two steps
  // back to back: a code (and the strobe) every cycle from cycle 1 to 6.
  const AdcBankConfig c = bank(1, 3, 3, 3, false);
  AdcBench bench("bench", c, steps_of(1, 2), window_from(0), true);
  EXPECT_EQ(sc_core::sc_find_object("bench.adc_bank.adc0_sar"), nullptr);
  const std::string p = "bench.adc_bank.adc0_";
  sc_core::sc_start(0.5 * kCycle);
  for (int cycle = 0; cycle < 9; ++cycle, sc_core::sc_start(kCycle)) {
    const bool valid = cycle >= 1 && cycle <= 6;
    EXPECT_EQ(signal_named<bool>(p + "valid").read(), valid) << cycle;
    EXPECT_EQ(signal_named<int>(p + "bitline").read(), cycle < 6 ? cycle % 3 : -1) << cycle;
    if (valid) {
      const int ended = cycle - 1;
      EXPECT_EQ(signal_named<int>(p + "code").read(),
                bench.probes[std::size_t(ended / 3)].codes[std::size_t(ended % 3)])
          << cycle;
    }
  }
  EXPECT_EQ(bench.done, (std::vector<int64_t>{3, 6}));
}

// ---- ShiftAdd: done (the job's serial) shift_add_cycles after the last step's conversions.
struct ShiftAddBench : sc_core::sc_module {
  sc_core::sc_fifo<StepToken> in{"in", 1};
  sc_core::sc_fifo<uint64_t> done{"done", 1};
  ShiftAdd shift_add;
  std::vector<Step> steps;
  MvmJob jobs[2];
  std::vector<std::pair<uint64_t, int64_t>> finished;
  SC_HAS_PROCESS(ShiftAddBench);
  std::vector<StepProbe> probes;  // per step: output 0's register after it
  ShiftAddBench(sc_core::sc_module_name n, int64_t t_sa, const std::vector<Step>& s,
                const TraceWindow& w = TraceWindow{})
      : sc_module(n), shift_add("shift_add", ShiftAddConfig{kCycle, t_sa}, w), steps(s) {
    for (std::size_t i = 0; i < s.size(); ++i) probes.push_back(StepProbe{{}, {}, {}, {1.5 * double(i + 1)}});
    shift_add.from_adc(in);
    shift_add.done(done);
    jobs[0].serial = 7;
    jobs[1].serial = 8;
    SC_THREAD(source);
    SC_THREAD(sink);
  }
  void source() {
    for (const MvmJob& job : jobs) {
      for (const Step& s : steps) {
        wait(2 * kCycle);  // a conversion every 2 cycles
        in.write(StepToken{s, job.serial, &probes[std::size_t(s.index)]});
      }
      wait(20 * kCycle);
    }
  }
  void sink() {
    while (true) {
      const uint64_t serial = done.read();
      finished.push_back({serial, cycle_of(sc_core::sc_time_stamp())});
    }
  }
};

TEST(ShiftAddModule, FinishesEachJobShiftAddCyclesAfterItsLastConversion) {
  const std::vector<Step> steps = steps_of(2, 2);
  ShiftAddBench bench("bench", 3, steps);
  sc_core::sc_start(200 * kCycle);
  // Job 7's last step arrives at cycle 8, job 8's at 8 + 20 + 8 = 36.
  EXPECT_EQ(bench.finished, (std::vector<std::pair<uint64_t, int64_t>>{{7, 11}, {8, 39}}));
}

TEST(ShiftAddModule, AccurateModeShowsTheRegisterAndAStrobeWhenDone) {
  // No shift-add latency: the result is ready with the last conversion (cycles 8 and 36).
  ShiftAddBench bench("bench", 0, steps_of(2, 2), window_from(0));
  const auto& reg = signal_named<double>("bench.shift_add.shift_add0");
  const auto& valid = signal_named<bool>("bench.shift_add.output_valid");
  sc_core::sc_start(2.5 * kCycle);
  EXPECT_EQ(reg.read(), 1.5);
  EXPECT_FALSE(valid.read());
  sc_core::sc_start(6 * kCycle);  // cycle 8.5
  EXPECT_EQ(reg.read(), 6.0);
  EXPECT_TRUE(valid.read());
  sc_core::sc_start(1 * kCycle);  // cycle 9.5
  EXPECT_FALSE(valid.read());
  sc_core::sc_start(200 * kCycle);
  EXPECT_EQ(bench.finished, (std::vector<std::pair<uint64_t, int64_t>>{{7, 8}, {8, 36}}));
}

}  // namespace
}  // namespace cimsim
