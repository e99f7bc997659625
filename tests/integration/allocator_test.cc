// The binary's allocator as shipped: jemalloc with two arenas and transparent huge pages kept off
// (processor/cli/malloc_conf.cc), and an operator's MALLOC_CONF taking precedence.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "processor/metrics/allocator_collector.h"
#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

std::string VersionOutput(const TempDir& dir, const std::string& malloc_conf) {
  std::vector<std::string> args{"/usr/bin/env", "-u", "MALLOC_CONF"};
  if (!malloc_conf.empty()) args.push_back("MALLOC_CONF=" + malloc_conf);
  args.push_back(TouchstreamBin());
  args.push_back("--version");
  ChildProcess version(args, dir.path() + "/version" + malloc_conf);
  EXPECT_EQ(version.Wait(std::chrono::seconds(30)), 0) << version.Stderr();
  return version.Stdout();
}

TEST(AllocatorTest,
     TheBinaryAsksForTwoArenasAndNoTransparentHugePagesUnlessMallocConfSaysOtherwise) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  if (!std::ifstream(kHostThpModePath)) {
    GTEST_SKIP() << "no transparent huge pages on this host: jemalloc reports \"not supported\"";
  }
  TempDir dir;
  const std::string shipped = VersionOutput(dir, "");
  EXPECT_NE(shipped.find("allocator: jemalloc "), std::string::npos) << shipped;
  EXPECT_NE(shipped.find(", 2 arenas, transparent huge pages asked for: never (the host's mode: "),
            std::string::npos)
      << shipped;

  const std::string overridden = VersionOutput(dir, "thp:always");
  EXPECT_NE(overridden.find(", 2 arenas, transparent huge pages asked for: always ("),
            std::string::npos)
      << overridden;
  const std::string arenas = VersionOutput(dir, "narenas:4");
  EXPECT_NE(arenas.find(", 4 arenas, transparent huge pages asked for: never ("), std::string::npos)
      << arenas;
}

}  // namespace
}  // namespace touchstream::testing
