// A test fixture with a state store of its own (StateDb) in a directory of its own (TestDir):
// opened before each test, reopened on demand (what a restart reads back), closed and removed
// after it.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "state/state_db.h"
#include "tests/unit/test_dir.h"

namespace touchstream::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  // Closes the store and opens it again from its files.
  void Reopen() {
    db_.reset();
    auto db = StateDb::Open(dir_ / "store", false);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }

  TestDir dir_;
  std::unique_ptr<StateDb> db_;  // closed before dir_ goes
};

}  // namespace touchstream::testing
