#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "processor/policy/time_zone_catalog.h"

namespace touchstream {
namespace {

TEST(TimeZoneCatalogTest, SystemCatalogKnowsZonesAndLinks) {
  const TimeZoneCatalog& zones = TimeZoneCatalog::System();
  EXPECT_GT(zones.size(), 300u);
  for (const char* name : {"UTC", "America/New_York", "Europe/Berlin", "US/Eastern", "Etc/UTC"}) {
    EXPECT_TRUE(zones.Knows(name)) << name;
    EXPECT_TRUE(zones.Find(name).has_value()) << name;
  }
}

TEST(TimeZoneCatalogTest, PathsAndUnknownNamesAreNeverLoaded) {
  const TimeZoneCatalog& zones = TimeZoneCatalog::System();
  for (const char* name : {"/etc/localtime", "../zoneinfo/UTC", "localtime", "posix/Europe/Berlin",
                           "America", "Mars/Olympus_Mons", ""}) {
    EXPECT_FALSE(zones.Knows(name)) << name;
    EXPECT_FALSE(zones.Find(name).has_value()) << name;
  }
}

TEST(TimeZoneCatalogTest, ReadsZonesAndLinksOfTzdataZi) {
  const std::string dir = ::testing::TempDir() + "/zoneinfo-catalog-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tzdata.zi") << "# version test\nR d 1916 o - Jun 14 23s 1 S\n"
                                       "Z Europe/Berlin 0:53:28 - LMT 1893 Ap\n"
                                       "L Europe/Berlin Arctic/Longyearbyen\n";
  const TimeZoneCatalog zones = TimeZoneCatalog::FromDirectory(dir);
  EXPECT_TRUE(zones.Knows("Europe/Berlin"));
  EXPECT_TRUE(zones.Knows("Arctic/Longyearbyen"));
  EXPECT_TRUE(zones.Knows("UTC")) << "always";
  EXPECT_EQ(zones.size(), 3u);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(TimeZoneCatalog::FromDirectory(dir).size(), 1u) << "no tzdata.zi: UTC alone";
}

}  // namespace
}  // namespace touchstream
