// A directory of its own for each test: under the system's temporary directory, named after the
// running test's suite and name and the process (so that parallel ctest runs and test cases never
// share one), empty when the test starts and removed when it ends.
//
// A death test in the threadsafe style runs the test again in a child process, which dies
// without running destructors: the child's directory is named after its parent's (with
// "_death_test_child" appended), and the parent removes it with its own.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace touchstream::testing {

class TestDir {
 public:
  // Inside a running test only (a fixture's member or a test's local).
  TestDir() : path_(std::filesystem::temp_directory_path() / Name(Running())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() {
    std::error_code ignored;  // a directory left behind fails no test
    std::filesystem::remove_all(path_, ignored);
    std::filesystem::remove_all(path_.string() + kChildSuffix, ignored);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A path inside the directory, as a string (what StateDb::Open takes).
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  static const ::testing::TestInfo& Running() {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    if (test == nullptr) {
      std::fprintf(stderr, "TestDir outside a running test\n");
      std::abort();
    }
    return *test;
  }
  static constexpr char kChildSuffix[] = "_death_test_child";

  // A death test's child is started by the test's process (its parent) with this flag set.
  static bool InDeathTestChild() { return !GTEST_FLAG_GET(internal_run_death_test).empty(); }

  static std::string Name(const ::testing::TestInfo& test) {
    const bool child = InDeathTestChild();
    std::string name = std::string(test.test_suite_name()) + "_" + test.name() + "_" +
                       std::to_string(child ? ::getppid() : ::getpid()) +
                       (child ? kChildSuffix : "");
    // Parameterized tests' names carry '/'.
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    return name;
  }

  std::filesystem::path path_;
};

}  // namespace touchstream::testing
