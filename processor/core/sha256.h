// SHA-256 for the hot path: event id hashes, trigger ids, holdout buckets. OpenSSL's one-shot
// SHA256() looks the algorithm up in its provider registry (locks, an allocated context) on
// every call, ~550 ns for a short id; this fetches the algorithm once and keeps one context per
// thread, ~130 ns. The digests are the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace touchstream {

using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest Sha256(std::string_view data);

// The digest's first 8 bytes as a big-endian integer.
uint64_t Sha256Prefix64(std::string_view data);

}  // namespace touchstream
