#include "io/output_files.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"

namespace cimsim {
namespace fs = std::filesystem;

OutputFiles::~OutputFiles() {
  if (committed_) return;
  for (const auto& e : entries_) std::remove(e.temp.c_str());
  std::error_code ec;
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it)
    fs::remove(*it, ec);  // only if empty
}

std::string OutputFiles::stage(const std::string& final_path) {
  const fs::path p(final_path);
  if (final_path.empty()) throw InputError("an output path is empty; give a file name");
  if (p.filename().empty()) throw InputError(final_path + ": is a directory name; give a file name");
  // Two outputs of one run may not be the same file (the second would silently replace the first).
  for (const auto& e : entries_)
    if (fs::weakly_canonical(e.final_path) == fs::weakly_canonical(p))
      throw InputError(final_path + ": given for two outputs of this run (e.g. --stats inside --out); give "
                                    "each its own file");
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
  if (fs::is_directory(p))
    throw InputError(final_path + ": a directory of that name exists; give a file name");
  // The finished file is renamed over the target: never over a device, FIFO or socket (as root,
  // --stats /dev/null would replace the device with a regular file).
  if (fs::exists(fs::symlink_status(p, ec)) && !fs::is_regular_file(fs::symlink_status(p, ec)))
    throw InputError(final_path + ": exists and is not a regular file (a device, FIFO, socket or link); give a "
                                  "path for a new or regular file");
  const std::string temp = (p.parent_path() / ("." + p.stem().string() + ".partial." +
                                               std::to_string(::getpid()) + p.extension().string()))
                               .string();
  entries_.push_back({temp, final_path});
  return temp;
}

void OutputFiles::commit() {
  for (const auto& e : entries_) {
    if (std::rename(e.temp.c_str(), e.final_path.c_str()) != 0) {
      throw InputError(e.final_path + ": cannot move the finished file into place");
    }
  }
  committed_ = true;
}

}  // namespace cimsim
