// OpenOrMoveAside: a store RocksDB will not open is moved aside and replaced by an empty one;
// a store that is only busy (locked by another instance) is an error and stays where it is.
#include "state/corrupt_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "state/commit_batch.h"

namespace touchstream {
namespace {

namespace fs = std::filesystem;

// 2026-01-02 03:04:05 UTC.
const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::from_time_t(1767323045);

class CorruptStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("corrupt_store_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    dir_ = (root_ / "state").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  // A store in dir_ holding customer "ann" in partition 0, closed again.
  void WriteStore() {
    auto db = StateDb::Open(dir_, false);
    ASSERT_TRUE(db.ok()) << db.status().message();
    CommitBatch batch(**db);
    v1::state::CustomerState ann;
    ann.set_customer_id("ann");
    ann.set_first_seen_ms(1);
    const std::string value = ann.SerializeAsString();
    batch.PutCustomerValue(0, "ann", &value);
    ASSERT_TRUE(batch.Commit().ok());
  }
  static void Overwrite(const fs::path& file, const std::string& content) {
    std::ofstream(file, std::ios::trunc) << content;
  }
  static std::string ReadText(const fs::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The directories beside dir_ other than dir_ itself.
  std::vector<std::string> Siblings() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(root_)) {
      if (entry.path().filename() != "state") out.push_back(entry.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static bool HasAnn(StateDb& db) {
    auto ann = db.ReadCustomer(0, "ann");
    return ann.ok() && ann->has_value();
  }

  fs::path root_;
  std::string dir_;
};

TEST_F(CorruptStoreTest, AHealthyStoreOpensInPlace) {
  WriteStore();
  auto opened = OpenOrMoveAside(dir_, false, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_FALSE(opened->moved_aside.has_value());
  EXPECT_TRUE(HasAnn(*opened->db));
  EXPECT_TRUE(Siblings().empty());
}

TEST_F(CorruptStoreTest, AGarbageCurrentFileIsMovedAsideAndAnEmptyStoreOpens) {
  WriteStore();
  Overwrite(fs::path(dir_) / "CURRENT", "garbage");
  auto opened = OpenOrMoveAside(dir_, false, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  ASSERT_TRUE(opened->moved_aside.has_value());
  EXPECT_EQ(opened->moved_aside->path, dir_ + ".corrupt-20260102T030405Z");
  EXPECT_NE(opened->moved_aside->reason.find("Corruption"), std::string::npos)
      << opened->moved_aside->reason;
  EXPECT_FALSE(HasAnn(*opened->db)) << "the new store starts empty";
  // Kept as it was, for an operator.
  EXPECT_EQ(ReadText(fs::path(opened->moved_aside->path) / "CURRENT"), "garbage");
  EXPECT_EQ(Siblings(), std::vector<std::string>{"state.corrupt-20260102T030405Z"});
}

TEST_F(CorruptStoreTest, AMissingManifestIsMovedAside) {
  WriteStore();
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) fs::remove(entry.path());
  }
  auto opened = OpenOrMoveAside(dir_, false, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  ASSERT_TRUE(opened->moved_aside.has_value());
  EXPECT_FALSE(HasAnn(*opened->db));
}

TEST_F(CorruptStoreTest, AGarbageManifestIsMovedAside) {
  WriteStore();
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      Overwrite(entry.path(), "not a manifest");
    }
  }
  auto opened = OpenOrMoveAside(dir_, false, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_TRUE(opened->moved_aside.has_value());
}

TEST_F(CorruptStoreTest, TwoMovesWithinOneSecondKeepBoth) {
  for (int i = 0; i < 2; ++i) {
    WriteStore();
    Overwrite(fs::path(dir_) / "CURRENT", "garbage");
    auto opened = OpenOrMoveAside(dir_, false, kNow);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
  }
  EXPECT_EQ(Siblings(), (std::vector<std::string>{"state.corrupt-20260102T030405Z",
                                                  "state.corrupt-20260102T030405Z.1"}));
}

TEST_F(CorruptStoreTest, AStoreLockedByAnotherInstanceIsAnErrorAndStaysInPlace) {
  WriteStore();
  auto running = StateDb::Open(dir_, false);
  ASSERT_TRUE(running.ok()) << running.status().message();
  auto opened = OpenOrMoveAside(dir_, false, kNow);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kIoError) << opened.status().message();
  EXPECT_NE(opened.status().message().find("lock"), std::string::npos) << opened.status().message();
  EXPECT_TRUE(Siblings().empty());
  EXPECT_TRUE(HasAnn(**running));
}

TEST(MovedAsidePathTest, IsASiblingNamedByTheUtcTime) {
  EXPECT_EQ(MovedAsidePath("/var/lib/touchstream/state", kNow),
            "/var/lib/touchstream/state.corrupt-20260102T030405Z");
  EXPECT_EQ(MovedAsidePath("data/state/", kNow), "data/state.corrupt-20260102T030405Z");
}

}  // namespace
}  // namespace touchstream
