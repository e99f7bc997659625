// Holdout groups (issue 12, step 1): a stable, reproducible share of a rule's customers who get
// none of its triggers, so campaign owners can measure the rule's lift.
//
// The rule, documented exactly so anyone can recompute it: the customer is held out of the rule
// when the first 8 bytes of SHA-256("<rule id>:<customer id>"), read as a big-endian unsigned
// integer, modulo 10000 are below the rule's basis points (holdout_percent × 100). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace touchstream {

inline constexpr int32_t kMaxBasisPoints = 10'000;

// The customer's bucket for the rule: 0..9999 as described above.
int32_t HoldoutBucket(std::string_view rule_id, std::string_view customer_id);

// HoldoutBucket(rule_id, customer_id) < basis_points.
bool IsHeldOut(std::string_view rule_id, std::string_view customer_id, int32_t basis_points);

// A holdout_percent's decimal text as basis points, exactly (no floating point): digits with at
// most two decimals, 0 to 100, e.g. "12.5" → 1250, "100" → 10000, "0.05" → 5. nullopt for
// anything else: a sign, an exponent, a third decimal ("12.345"), a bare "." or a value above
// 100.
std::optional<int32_t> ParseBasisPoints(std::string_view percent);

}  // namespace touchstream
