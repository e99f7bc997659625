// A directory of its own for each test: under the system's temporary directory, named after the
// suite, the process and the test (so that parallel ctest runs and test cases never share one),
// empty when the test starts and removed when it ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace touchstream::testing {

class TestDir {
 public:
  explicit TestDir(const std::string& suite)
      : path_(std::filesystem::temp_directory_path() /
              (suite + "_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() { std::filesystem::remove_all(path_); }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A path inside the directory, as a string (what StateDb::Open takes).
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace touchstream::testing
