#include "io/output_files.h"

#include <fcntl.h>  // AT_FDCWD
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc, _GNU_SOURCE)
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace cimsim {
namespace fs = std::filesystem;

namespace {

// Whether `inner` is `outer` or lies inside it (after resolving . and .. and existing links).
bool within(const fs::path& inner, const fs::path& outer) {
  const fs::path a = fs::weakly_canonical(inner), b = fs::weakly_canonical(outer);
  auto ia = a.begin();
  for (auto ib = b.begin(); ib != b.end(); ++ib, ++ia) {
    if (ib->empty()) continue;  // a trailing separator
    if (ia == a.end() || *ia != *ib) return false;
  }
  return true;
}

// A temporary name beside `p`: hidden, marked partial, unique to this process.
fs::path temporary_beside(const fs::path& p) {
  return p.parent_path() /
         ("." + p.stem().string() + ".partial." + std::to_string(::getpid()) + p.extension().string());
}

}  // namespace

std::string output_name(const std::string& path) {
  fs::path shown;
  for (const fs::path& part : fs::path(path)) {
    std::string name = part.string();
    const std::size_t mark = name.find(".partial.");
    if (name.size() > 1 && name[0] == '.' && mark != std::string::npos) {
      const std::size_t pid_end = name.find_first_not_of("0123456789", mark + 9);
      name = name.substr(1, mark - 1) + (pid_end == std::string::npos ? "" : name.substr(pid_end));
    }
    shown /= name;
  }
  return shown.string();
}

OutputFiles::~OutputFiles() {
  if (committed_) return;
  std::error_code ec;
  for (const auto& e : entries_) fs::remove_all(e.temp, ec);
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it)
    fs::remove(*it, ec);  // only if empty
}

void OutputFiles::check_distinct(const std::string& final_path, bool directory) const {
  for (const auto& e : entries_) {
    const bool clash = e.directory ? within(final_path, e.final_path)
                                   : (directory ? within(e.final_path, final_path)
                                                : fs::weakly_canonical(e.final_path) == fs::weakly_canonical(final_path));
    if (clash)
      throw InputError(final_path + " and " + e.final_path + ": given for two outputs of this run (e.g. --stats " +
                       "inside --out, which is replaced as a whole); give each its own path, outside the other");
  }
}

void OutputFiles::create_parent(const std::string& final_path) {
  const fs::path p(final_path);
  std::error_code ec;
  if (p.has_parent_path()) {
    // Remember each directory this creates (outermost first) so a failed run can remove them.
    std::vector<fs::path> missing;
    for (fs::path d = p.parent_path(); !d.empty() && !fs::exists(d); d = d.parent_path())
      missing.push_back(d);
    fs::create_directories(p.parent_path(), ec);
    if (!ec) {
      for (auto it = missing.rbegin(); it != missing.rend(); ++it) created_dirs_.push_back(it->string());
    }
  }
  if (ec || (p.has_parent_path() && !fs::is_directory(p.parent_path()))) {
    throw InputError(final_path + ": cannot create the directory " + p.parent_path().string() +
                     (ec ? " (" + ec.message() + ")" : std::string(" (a file of that name exists)")));
  }
}

std::string OutputFiles::stage(const std::string& final_path) {
  const fs::path p(final_path);
  if (final_path.empty()) throw InputError("an output path is empty; give a file name");
  if (p.filename().empty()) throw InputError(final_path + ": is a directory name; give a file name");
  check_distinct(final_path, false);
  create_parent(final_path);
  if (fs::is_directory(p))
    throw InputError(final_path + ": a directory of that name exists; give a file name");
  // The finished file is renamed over the target: never over a device, FIFO or socket (as root,
  // --stats /dev/null would replace the device with a regular file).
  std::error_code ec;
  if (fs::exists(fs::symlink_status(p, ec)) && !fs::is_regular_file(fs::symlink_status(p, ec)))
    throw InputError(final_path + ": exists and is not a regular file (a device, FIFO, socket or link); give a "
                                  "path for a new or regular file");
  const std::string temp = temporary_beside(p).string();
  entries_.push_back({temp, final_path, false});
  return temp;
}

std::string OutputFiles::stage_directory(const std::string& final_dir, const std::vector<std::string>& names) {
  if (final_dir.empty()) throw InputError("an output directory is empty; give a directory name");
  fs::path p(final_dir);
  if (p.filename().empty()) p = p.parent_path();  // "out/" names "out"
  check_distinct(p.string(), true);
  std::error_code ec;
  const auto status = fs::symlink_status(p, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status))
      throw InputError(final_dir + ": exists and is not a directory; give a directory for the outputs");
    // The directory is replaced as a whole: it may hold only what this command writes.
    for (const auto& entry : fs::directory_iterator(p)) {
      const std::string name = entry.path().filename().string();
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw InputError(final_dir + ": holds '" + name + "', which this command does not write, and the " +
                         "directory is replaced as a whole; give a new or empty directory, or move it away");
    }
  }
  create_parent(p.string());
  const fs::path temp = temporary_beside(p);
  fs::remove_all(temp, ec);  // a leftover of a killed process with the same id
  if (!fs::create_directory(temp, ec) || ec)
    throw InputError(final_dir + ": cannot create the directory " + temp.string() +
                     (ec ? " (" + ec.message() + ")" : std::string()));
  entries_.push_back({temp.string(), p.string(), true});
  return temp.string();
}

void OutputFiles::commit() {
  for (const auto& e : entries_) {
    if (e.directory) continue;
    if (std::rename(e.temp.c_str(), e.final_path.c_str()) != 0) {
      throw InputError(e.final_path + ": cannot move the finished file into place");
    }
  }
  for (const auto& e : entries_) {
    if (!e.directory) continue;
    std::error_code ec;
    const bool existed = fs::exists(fs::symlink_status(e.final_path, ec));
    // Swap in one step; the temporary name then holds the previous contents, removed below.
    int status = existed ? ::renameat2(AT_FDCWD, e.temp.c_str(), AT_FDCWD, e.final_path.c_str(), RENAME_EXCHANGE)
                         : std::rename(e.temp.c_str(), e.final_path.c_str());
    if (status != 0 && existed && (errno == EINVAL || errno == ENOSYS)) {
      // A file system without the exchange: move the old directory aside first (a reader may then
      // briefly find no directory, never a mixed one).
      const std::string old = e.temp + ".old";
      status = std::rename(e.final_path.c_str(), old.c_str());
      if (status == 0) {
        status = std::rename(e.temp.c_str(), e.final_path.c_str());
        if (status == 0) {
          std::rename(old.c_str(), e.temp.c_str());  // removed with the temporary below
        } else {
          const int failed = errno;
          std::rename(old.c_str(), e.final_path.c_str());  // the previous results back in place
          errno = failed;
        }
      }
    }
    if (status != 0)
      throw InputError(e.final_path + ": cannot move the finished directory into place (" +
                       std::string(std::strerror(errno)) + ")");
    fs::remove_all(e.temp, ec);
  }
  committed_ = true;
}

}  // namespace cimsim
