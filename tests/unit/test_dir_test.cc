// The test helper's own contract (tests/unit/test_dir.h): each test's directory is gone when the
// test ends, also the one a death test's child made before it died.
#include "tests/unit/test_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace touchstream::testing {
namespace {

// The directories under the temporary directory whose names start with `prefix`.
int DirectoriesNamed(const std::string& prefix) {
  int found = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) ++found;
  }
  return found;
}

TEST(TestDirTest, IsEmptyAtTheStartAndGoneAtTheEnd) {
  std::filesystem::path path;
  {
    TestDir dir;
    path = dir.path();
    EXPECT_TRUE(std::filesystem::is_empty(path));
    std::ofstream(dir / "file") << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A death test in the threadsafe style runs the test again in a new process, which makes its own
// directory and then dies without running a destructor: the parent removes that one too.
TEST(TestDirTest, ADeathTestChildsDirectoryGoesWithTheTest) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string any_run = "TestDirTest_ADeathTestChildsDirectoryGoesWithTheTest_";
  const int before = DirectoriesNamed(any_run);  // other runs' leftovers, if any
  std::string prefix;
  {
    TestDir dir;
    prefix = dir.path().filename().string();
    EXPECT_DEATH(
        {
          std::ofstream(dir / "file") << "x";
          std::abort();
        },
        "");
    EXPECT_EQ(DirectoriesNamed(prefix), 2) << "the test's and its death test child's";
    EXPECT_FALSE(std::filesystem::exists(dir / "file")) << "the child wrote in its own";
  }
  EXPECT_EQ(DirectoriesNamed(prefix), 0);
  EXPECT_EQ(DirectoriesNamed(any_run), before);
}

}  // namespace
}  // namespace touchstream::testing
