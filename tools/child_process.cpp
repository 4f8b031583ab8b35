#include "child_process.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/error.h"

namespace cimsim::cli {

namespace fs = std::filesystem;

namespace {

fs::path self_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this program through /proc/self/exe: " + ec.message());
  return self;
}

}  // namespace

namespace {

// Starts the file `exec_path` with `args` (argv[0] is `program`), its output into `log`
// (inherited when empty), `env` set; the child dies with its parent.
pid_t spawn(const std::string& program, const std::vector<std::string>& args, const std::string& log,
            const std::vector<std::pair<std::string, std::string>>& env, const std::string& exec_path) {
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed: the machine is out of processes or memory");
  if (pid == 0) {  // no shell: arguments reach the program as they are, whatever they hold
    // Die with the parent; if it is already gone, do not start.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    if (!log.empty()) {
      std::FILE* f = std::freopen(log.c_str(), "w", stdout);
      if (!f || ::dup2(::fileno(stdout), 2) < 0) ::_exit(127);
    }
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    ::execv(exec_path.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// The waitpid status of a child (-1 if waiting failed).
int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

}  // namespace

pid_t spawn_self(const std::vector<std::string>& args, const std::string& log,
                 const std::vector<std::pair<std::string, std::string>>& env) {
  // /proc/self/exe is this very program even when its file was replaced or deleted since it
  // started (a rebuild during a sweep): every point runs the same build.
  return spawn(self_path().string(), args, log, env, "/proc/self/exe");
}

std::string wait_for_child(pid_t pid, const std::string& log) {
  const int status = wait_status(pid);
  return status < 0 ? "waitpid failed" : child_error(status, log);
}

std::string child_error(int status, const std::string& log) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::string error = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exit status " + std::to_string(WEXITSTATUS(status));
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("error: ", 0) == 0) error = line.substr(7);
  return error;
}

std::string run_self(const std::vector<std::string>& args, const std::string& log,
                     const std::vector<std::pair<std::string, std::string>>& env) {
  return wait_for_child(spawn_self(args, log, env), log);
}

void run_plot_script(const std::string& name, const std::vector<std::string>& args, const std::string& what) {
  const std::string script = (self_path().parent_path() / name).string();
  std::vector<std::string> script_args{script};
  script_args.insert(script_args.end(), args.begin(), args.end());
  const int status = wait_status(spawn("/usr/bin/python3", script_args, "", {}, "/usr/bin/python3"));
  if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InputError(
        what + ": " + script + " failed (exit status " + std::to_string(WEXITSTATUS(status)) +
        "; 127: /usr/bin/python3 is missing; it needs python3-matplotlib, installed by tools/setup.sh)");
}

std::string hash_of(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace cimsim::cli
