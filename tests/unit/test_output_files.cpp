// Tests of OutputFiles: staged files and directories are committed whole or not at all, and the
// names in messages are the user's, not the temporaries'.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/output_files.h"

namespace {

namespace fs = std::filesystem;
using cimsim::InputError;
using cimsim::OutputFiles;

class OutputFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cimsim-output-files-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string path(const std::string& name) const { return (root_ / name).string(); }
  static void write(const std::string& file, const std::string& text) { std::ofstream(file) << text; }
  static std::string read(const std::string& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<std::string> entries(const std::string& dir) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path root_;
};

TEST_F(OutputFilesTest, DirectoryIsSwappedWholeAndOldFilesGo) {
  fs::create_directory(path("d"));
  write(path("d/a.json"), "old a");
  write(path("d/b.npy"), "old b");
  {
    OutputFiles out;
    const std::string dir = out.stage_directory(path("d"), {"a.json", "b.npy"});
    EXPECT_NE(dir, path("d"));
    write(dir + "/a.json", "new a");  // b.npy not written this time
    EXPECT_EQ(read(path("d/a.json")), "old a");  // untouched until the commit
    out.commit();
  }
  EXPECT_EQ(entries(path("d")), std::vector<std::string>{"a.json"});
  EXPECT_EQ(read(path("d/a.json")), "new a");
  EXPECT_EQ(entries(root_.string()), std::vector<std::string>{"d"});  // no temporary left
}

TEST_F(OutputFilesTest, UncommittedDirectoryLeavesNothing) {
  {
    OutputFiles out;
    const std::string dir = out.stage_directory(path("new/deeper/d"), {"a.json"});
    write(dir + "/a.json", "x");
  }
  EXPECT_TRUE(entries(root_.string()).empty());  // the parents it created are removed too
}

TEST_F(OutputFilesTest, ForeignFilesAndNestedOutputsAreRefused) {
  fs::create_directory(path("d"));
  write(path("d/notes.txt"), "mine");
  OutputFiles out;
  EXPECT_THROW(out.stage_directory(path("d"), {"a.json"}), InputError);
  EXPECT_EQ(read(path("d/notes.txt")), "mine");
  out.stage_directory(path("e"), {"a.json"});
  EXPECT_THROW(out.stage(path("e/s.json")), InputError);  // inside the directory replaced whole
  EXPECT_THROW(out.stage_directory(path("e/"), {"a.json"}), InputError);
  write(path("f"), "a file");
  EXPECT_THROW(out.stage_directory(path("f"), {"a.json"}), InputError);
}

TEST_F(OutputFilesTest, MessagesNameTheOutputNotItsTemporary) {
  EXPECT_EQ(cimsim::output_name("out/.stats.partial.1234.json"), "out/stats.json");
  EXPECT_EQ(cimsim::output_name(".run.partial.77/hw.json"), "run/hw.json");
  EXPECT_EQ(cimsim::output_name("a/.d.partial.9/logits.npy"), "a/d/logits.npy");
  EXPECT_EQ(cimsim::output_name("plain/.hidden.json"), "plain/.hidden.json");
  OutputFiles out;
  const std::string temp = out.stage(path("x/y.json"));
  EXPECT_EQ(cimsim::output_name(temp), path("x/y.json"));
  const std::string dir = out.stage_directory(path("z"), {"w.npy"});
  EXPECT_EQ(cimsim::output_name(dir + "/w.npy"), path("z/w.npy"));
}

}  // namespace
