#include "processor/core/text_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "processor/config/config.h"
#include "processor/config/config_error.h"
#include "tests/unit/test_dir.h"

namespace touchstream {
namespace {

TEST(TextFileTest, ReadsTheWholeFileBytesAsWritten) {
  testing::TestDir dir;
  const std::string path = dir / "text";
  const std::string text = std::string("line one\nline two\n\0after a zero byte", 36) +
                           std::string(100000, 'x');  // past any one read's buffer
  std::ofstream(path, std::ios::binary) << text;
  EXPECT_EQ(ReadTextFile(path), text);
  EXPECT_EQ(ReadTextFileOrEmpty(path), text);
}

TEST(TextFileTest, AnEmptyFileIsEmptyTextAndAMissingOneIsNone) {
  testing::TestDir dir;
  std::ofstream(dir / "empty");
  EXPECT_EQ(ReadTextFile(dir / "empty"), std::string());
  EXPECT_EQ(ReadTextFile(dir / "missing"), std::nullopt);
  EXPECT_EQ(ReadTextFileOrEmpty(dir / "missing"), "");
  // A directory opens but reads as nothing: not a file's text.
  EXPECT_EQ(ReadTextFileOrEmpty(dir.path().string()), "");
}

TEST(TextFileTest, AConfigFileThatCannotBeReadIsNamedInTheError) {
  testing::TestDir dir;
  try {
    LoadConfigFile(dir / "missing.yaml");
    FAIL() << "a missing config file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.yaml: cannot read config file"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace touchstream
