// Starting another program and waiting for it, without a shell (arguments reach it as they are):
// cimsim's own child processes (tools/child_process.h), the plotting scripts and vcd2fst.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace cimsim {

// Starts the file `exec_path` with `args` (argv[0] is `program`), its stdout and stderr into
// `log` (inherited when empty), `env` (NAME, VALUE) set; the child is killed if its parent dies.
pid_t spawn_process(const std::string& program, const std::vector<std::string>& args, const std::string& log,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::string& exec_path);

// The waitpid status of a child (-1 if waiting failed).
int wait_status(pid_t pid);

// The path of `program` in a directory of $PATH, or "" when none has it executable.
std::string find_on_path(const std::string& program);

}  // namespace cimsim
