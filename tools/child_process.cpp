#include "child_process.h"

#include <sys/wait.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/error.h"
#include "io/process.h"

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

pid_t spawn_self(const std::vector<std::string>& args, const std::string& log,
                 const std::vector<std::pair<std::string, std::string>>& env) {
  // /proc/self/exe is this very program even when its file was replaced or deleted since it
  // started (a rebuild during a sweep): every point runs the same build.
  return spawn_process(self_path().string(), args, log, env, "/proc/self/exe");
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
  if (!std::filesystem::is_regular_file(script))
    throw InputError(what + ": " + script + " does not exist: cimsim runs its plot scripts from beside its " +
                     "own binary; run the build's cimsim, or copy tools/" + name + " there");
  std::vector<std::string> script_args{script};
  script_args.insert(script_args.end(), args.begin(), args.end());
  const int status = wait_status(spawn_process("/usr/bin/python3", script_args, "", {}, "/usr/bin/python3"));
  if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    throw InputError(what + ": " + script + " failed (" +
                     (code == 127 ? std::string("/usr/bin/python3 is missing; tools/setup.sh installs it with "
                                                "python3-matplotlib")
                                  : "exit status " + std::to_string(code) + "; its messages are above") +
                     ")");
  }
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

std::string bundle_hash(const ModelBundle& bundle) {
  std::string all;
  for (const std::string& name : bundle.files) {
    const std::string path = (fs::path(bundle.dir) / name).string();
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (!in) throw InputError(path + ": cannot read the bundle file; check that it is readable");
    all += name + '\0' + hash_of(bytes.str()) + '\0';
  }
  return hash_of(all);
}

}  // namespace cimsim::cli
