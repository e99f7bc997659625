#include "processor/core/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace touchstream {
namespace {

std::string Hex(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

// FIPS 180-2's examples: the stored event hashes and trigger ids depend on these exact bytes.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, PrefixIsTheFirstEightBytesBigEndian) {
  EXPECT_EQ(Sha256Prefix64("abc"), 0xba7816bf8f01cfeaull);
}

// Each thread has its own context: digests computed at once on two threads stay right.
TEST(Sha256Test, ConcurrentThreads) {
  auto work = [](const std::string& input, const std::string& expected, bool* ok) {
    *ok = true;
    for (int i = 0; i < 2000; ++i) *ok = *ok && Hex(Sha256(input)) == expected;
  };
  bool ok_a = false;
  bool ok_b = false;
  std::thread a(work, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                &ok_a);
  std::thread b(work, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                &ok_b);
  a.join();
  b.join();
  EXPECT_TRUE(ok_a);
  EXPECT_TRUE(ok_b);
}

}  // namespace
}  // namespace touchstream
