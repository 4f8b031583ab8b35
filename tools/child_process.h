// Child processes of the cimsim program: steps of `cimsim flow`, points of `cimsim sweep`, and the
// plotting scripts installed beside the binary. A SystemC simulation elaborates once per process,
// so every simulation a command drives runs as `cimsim ...` in a child of its own.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "bundle/model_bundle.h"

namespace cimsim::cli {

// Starts this program as `cimsim ARGS...` with stdout and stderr into `log`, `env` (NAME, VALUE)
// pairs set in its environment. The child is killed if its parent dies (so killing a sweep or a
// flow leaves no orphan writing into its directory).
pid_t spawn_self(const std::vector<std::string>& args, const std::string& log,
                 const std::vector<std::pair<std::string, std::string>>& env = {});

// Waits for a child of spawn_self; "" when it exited with status 0, else its error: the last
// "error: " line of its log, or how it ended.
std::string wait_for_child(pid_t pid, const std::string& log);

// How a child that ended with waitpid `status` failed: "" for exit status 0, else the last
// "error: " line of its log, or how it ended.
std::string child_error(int status, const std::string& log);

// spawn_self, then wait_for_child.
std::string run_self(const std::vector<std::string>& args, const std::string& log,
                     const std::vector<std::pair<std::string, std::string>>& env = {});

// Runs tools/NAME (installed beside this program) with /usr/bin/python3 and `args`; InputError
// naming `what` if it fails (it needs python3-matplotlib).
void run_plot_script(const std::string& name, const std::vector<std::string>& args, const std::string& what);

// FNV-1a, 64 bits, as 16 hex digits: identifies the inputs of a step or point (not a security hash).
std::string hash_of(const std::string& text);
// The names and bytes of every file of a loaded bundle (ModelBundle::files: the manifest and each
// tensor it references, wherever in the bundle directory), hashed in that order.
std::string bundle_hash(const ModelBundle& bundle);

}  // namespace cimsim::cli
