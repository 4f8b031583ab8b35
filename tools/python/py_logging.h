// The simulator's log lines (spdlog) as records of Python's `logging` module, logger "cimsim", so a
// script shows progress and warnings with logging.basicConfig(level=logging.INFO) and filters them
// as it filters its own.
#pragma once

namespace cimsim::python {

// Replaces spdlog's default logger with one that hands each line to logging.getLogger("cimsim").
void route_logs_to_python();

// Sets spdlog's level to the Python logger's effective level (so lines no handler wants are not
// even formatted). Called with the GIL held before each call into the simulator.
void follow_python_log_level();

}  // namespace cimsim::python
