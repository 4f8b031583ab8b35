// All-or-nothing result files: every output of a run is first written under a temporary name
// in its final directory (stage()), and only when the whole run has succeeded are they renamed
// into place (commit()). A run that fails leaves no result that looks complete: the destructor
// removes whatever was staged and not committed, and the directories it created for them.
#pragma once

#include <string>
#include <vector>

namespace cimsim {

// The name a user gave for `path` when it is one of OutputFiles' temporaries (".stats.partial.123.json"
// -> "stats.json", ".out.partial.123/hw.json" -> "out/hw.json"); any other path unchanged. For messages.
std::string output_name(const std::string& path);

class OutputFiles {
 public:
  OutputFiles() = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  ~OutputFiles();

  // Creates the final path's directory if needed (InputError if impossible or if the path is a
  // directory) and returns a temporary path beside it with the same extension.
  std::string stage(const std::string& final_path);
  // Stages a whole output directory (e.g. cimsim run --out): returns a fresh temporary directory
  // beside it to write `names` into; commit() swaps it with the final directory in one atomic
  // rename (renameat2 RENAME_EXCHANGE) and removes the previous contents, so a reader sees the old
  // set of files or the new one, never a mix. An existing final directory may hold only `names`
  // (it is replaced as a whole): anything else is an InputError naming it.
  std::string stage_directory(const std::string& final_dir, const std::vector<std::string>& names);
  // Renames every staged file (then every staged directory) to its final path.
  void commit();

 private:
  struct Entry {
    std::string temp, final_path;
    bool directory = false;
  };
  // The directories of final_path that do not exist yet are created (and remembered).
  void create_parent(const std::string& final_path);
  // InputError if two outputs are the same path or a file lies inside a staged directory.
  void check_distinct(const std::string& final_path, bool directory) const;
  std::vector<Entry> entries_;
  std::vector<std::string> created_dirs_;  // directories stage() created, removed again if empty
  bool committed_ = false;
};

}  // namespace cimsim
