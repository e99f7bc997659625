#include "processor/policy/holdout.h"

#include <algorithm>
#include <string>

#include "processor/core/sha256.h"

namespace touchstream {

int32_t HoldoutBucket(std::string_view rule_id, std::string_view customer_id) {
  std::string input;
  input.reserve(rule_id.size() + 1 + customer_id.size());
  input.append(rule_id).append(":").append(customer_id);
  return static_cast<int32_t>(Sha256Prefix64(input) % kMaxBasisPoints);
}

bool IsHeldOut(std::string_view rule_id, std::string_view customer_id, int32_t basis_points) {
  return basis_points > 0 && HoldoutBucket(rule_id, customer_id) < basis_points;
}

std::optional<int32_t> ParseBasisPoints(std::string_view percent) {
  const size_t dot = percent.find('.');
  const std::string_view whole = percent.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : percent.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  // At most 3 significant whole digits keeps the arithmetic far from overflow.
  const size_t leading_zeros = std::min(whole.find_first_not_of('0'), whole.size());
  if (whole.empty() || !all_digits(whole) || whole.size() - leading_zeros > 3) return std::nullopt;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 2)) {
    return std::nullopt;
  }
  if (!all_digits(fraction)) return std::nullopt;
  int32_t basis_points = 0;
  for (char c : whole) basis_points = basis_points * 10 + (c - '0');
  basis_points *= 100;
  if (!fraction.empty()) basis_points += (fraction[0] - '0') * 10;
  if (fraction.size() == 2) basis_points += fraction[1] - '0';
  if (basis_points > kMaxBasisPoints) return std::nullopt;
  return basis_points;
}

}  // namespace touchstream
