#include "simulation_session.h"

#include <systemc>
#include <vector>

namespace cimsim {
namespace {

std::mutex g_kernel;
bool g_used = false;  // a session has run in the current kernel context
// The contexts of earlier sessions, kept: libsystemc's own static events belong to the first one
// and leave it when the library unloads at exit. Reachable, so not a leak to LeakSanitizer; each
// holds only its (empty) registries once its run's modules are gone.
auto* g_retired = new std::vector<sc_core::sc_simcontext*>;

}  // namespace

SimulationSession::SimulationSession() : lock_(g_kernel) {
  if (!g_used) return;
  // The previous session's modules were destroyed with its run (run_network, run_mvm and
  // calibrate_network own them).
  g_retired->push_back(sc_core::sc_curr_simcontext);
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext;
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
}

SimulationSession::~SimulationSession() { g_used = true; }

}  // namespace cimsim
