// `cimsim train ARGS...`: executes the trainer program cimsim-train that sits beside this binary, so
// that the simulator never links LibTorch (docs/training.md, "Why a separate program").
#pragma once

namespace cimsim::cli {

// If the command line's subcommand is `train`, replaces this process with
// `<dir of /proc/self/exe>/cimsim-train ARGS... [leading -v/-q flags]` (with OMP_WAIT_POLICY=passive
// unless set) and does not return; if the program is missing or cannot run, prints why and returns 2.
// Returns -1 when the subcommand is not `train`.
int exec_train_if_requested(int argc, char* argv[]);

}  // namespace cimsim::cli
