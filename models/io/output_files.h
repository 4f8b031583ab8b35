// All-or-nothing result files: every output of a run is first written under a temporary name
// in its final directory (stage()), and only when the whole run has succeeded are they renamed
// into place (commit()). A run that fails leaves no result that looks complete: the destructor
// removes whatever was staged and not committed, and the directories it created for them.
#pragma once

#include <string>
#include <vector>

namespace cimsim {

class OutputFiles {
 public:
  OutputFiles() = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  ~OutputFiles();

  // Creates the final path's directory if needed (InputError if impossible or if the path is a
  // directory) and returns a temporary path beside it with the same extension.
  std::string stage(const std::string& final_path);
  // Renames every staged file to its final path.
  void commit();

 private:
  struct Entry {
    std::string temp, final_path;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> created_dirs_;  // directories stage() created, removed again if empty
  bool committed_ = false;
};

}  // namespace cimsim
