// SimulationSession: several simulations in one process (the Python module's case), each giving
// what a fresh process gives, including after one that its progress hook stopped.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "../support/random_operands.h"
#include "../support/test_configs.h"
#include "../support/tiny_network.h"
#include "mvm_run.h"
#include "network_runner.h"
#include "simulation_session.h"

namespace cimsim {
namespace {

NetworkReport run_network_once(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& images,
                               const NetworkOptions& options) {
  SimulationSession session;
  return run_network(hw, bundle, images, options);
}

TEST(SimulationSession, RunsRepeatWithTheSameNumbersAndTime) {
  std::mt19937 gen(11);
  const ModelBundle bundle = testing::every_layer_bundle(gen);
  const data::Dataset images = testing::random_images(gen);
  testing::HwParams p;
  const HwConfig hw = testing::make_hw(p);
  NetworkOptions options;
  options.batch = 2;
  std::vector<int64_t> progress;
  options.progress = [&](int64_t done, int64_t count) { progress.push_back(done * 1000 + count); };
  const NetworkReport first = run_network_once(hw, bundle, images, options);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), images.count * 1000 + images.count);

  // A run its hook stops: the hook's exception comes out as it was thrown.
  NetworkOptions stopping = options;
  stopping.progress = [](int64_t, int64_t) { throw std::out_of_range("stop here"); };
  EXPECT_THROW(run_network_once(hw, bundle, images, stopping), std::out_of_range);

  // A one-layer run between, then the network again: the same logits, cycles and energy.
  {
    SimulationSession session;
    const testing::Operands o = testing::random_operands(p, 40, 7, 9, 3);
    Eigen::MatrixXd y;
    EXPECT_GT(run_mvm(hw, o.weights, o.x, y, MvmOptions{}).total_cycles, 0);
  }
  const NetworkReport again = run_network_once(hw, bundle, images, options);
  EXPECT_EQ(first.logits, again.logits);
  EXPECT_EQ(first.cycles_per_image, again.cycles_per_image);
  EXPECT_EQ(first.simulated_cycles, again.simulated_cycles);
  EXPECT_EQ(first.energy.total_pj(), again.energy.total_pj());
  EXPECT_GT(first.cycles_per_image, 0);
}

}  // namespace
}  // namespace cimsim
