// SystemC elaborates and simulates one model per kernel context: modules cannot be added after
// sc_start, and a finished simulation cannot be started again. The command line programs run one
// simulation per process; a long-lived process (the Python module) runs each one in a
// SimulationSession, which serialises them and gives each after the first a fresh kernel context
// (time 0, no modules, no events), so every run gives the numbers a fresh process gives.
#pragma once

#include <mutex>

namespace cimsim {

class SimulationSession {
 public:
  SimulationSession();  // waits for any other session of the process to end
  ~SimulationSession();
  SimulationSession(const SimulationSession&) = delete;
  SimulationSession& operator=(const SimulationSession&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace cimsim
