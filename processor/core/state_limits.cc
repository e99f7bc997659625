#include "processor/core/state_limits.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <utility>

#include "processor/core/event_dedup.h"

namespace touchstream {

const char* TrimReasonName(TrimReason reason) {
  return reason == TrimReason::kMaxCartLines ? "max_cart_lines" : "max_state_bytes";
}

namespace {

// What one element of a repeated message field adds to its parent: tag, length, bytes (every
// list trimmed here has a field number below 16, so a one-byte tag).
template <typename Message>
size_t EncodedSize(const Message& element) {
  const size_t bytes = element.ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(bytes) + bytes;
}

// Removes entries of `list` from its oldest end (the front if `oldest_first`, else the back)
// until `customer` fits in `max_bytes` or the list is empty. `size` is the customer's serialized
// size, kept up to date.
template <typename Message>
void TrimOldest(google::protobuf::RepeatedPtrField<Message>& list, bool oldest_first,
                const CustomerState& customer, size_t max_bytes, size_t& size, uint64_t& trimmed) {
  while (size > max_bytes && !list.empty()) {
    // Enough of the oldest entries to cover the excess; the parents' length prefixes may shrink
    // too, which the recount below sees.
    int count = 0;
    size_t freed = 0;
    while (count < list.size() && freed < size - max_bytes) {
      freed += EncodedSize(list.Get(oldest_first ? count : list.size() - 1 - count));
      ++count;
    }
    list.DeleteSubrange(oldest_first ? 0 : list.size() - count, count);
    trimmed += count;
    size = customer.ByteSizeLong();
  }
}

// The remembered event ids (normalized: NormalizeEventIds), oldest first, as TrimOldest trims a
// list: an entry is its hash's 6 bytes and its time's varint.
void TrimOldestEventIds(CustomerState& customer, size_t max_bytes, size_t& size,
                        uint64_t& trimmed) {
  const auto& times = customer.recent_times_ms();
  while (size > max_bytes && !times.empty()) {
    int count = 0;
    size_t freed = 0;
    while (count < times.size() && freed < size - max_bytes) {
      freed += kStoredEventIdBytes + google::protobuf::io::CodedOutputStream::VarintSize64(
                                         static_cast<uint64_t>(times[count]));
      ++count;
    }
    ForgetOldestIds(customer, count);
    trimmed += count;
    size = customer.ByteSizeLong();
  }
}

// While it lives, the customer's rule states are without their indexed_ms (the timer index's
// bookkeeping, which depends on the watermark: processor/core/rule_timer.h), so that what the
// limits trim depends on the events alone; it puts them back.
class IndexBookkeepingAside {
 public:
  explicit IndexBookkeepingAside(CustomerState& customer) : customer_(customer) {
    for (int i = 0; i < customer.rules_size(); ++i) {
      const int64_t indexed = customer.rules(i).state().indexed_ms();
      if (indexed == 0) continue;
      aside_.push_back({i, indexed});
      customer.mutable_rules(i)->mutable_state()->clear_indexed_ms();
    }
  }
  // Trimming keeps every rule slot, in its place.
  ~IndexBookkeepingAside() {
    for (const auto& [i, indexed] : aside_) {
      customer_.mutable_rules(i)->mutable_state()->set_indexed_ms(indexed);
    }
  }
  bool any() const { return !aside_.empty(); }

 private:
  CustomerState& customer_;
  std::vector<std::pair<int, int64_t>> aside_;
};

// TrimToLimits past the cart lines, for a state over max_state_bytes with its indexed_ms
// included (its encoded size `size`).
void TrimToMaxBytes(CustomerState& customer, const StateLimits& limits, size_t size,
                    TrimCounts& counts, std::vector<v1::state::DeferredTrigger>* dropped) {
  const IndexBookkeepingAside aside(customer);
  if (aside.any()) size = customer.ByteSizeLong();
  if (size <= limits.max_state_bytes) return;
  const size_t max = limits.max_state_bytes;
  if (customer.has_cart()) {
    TrimOldest(*customer.mutable_cart()->mutable_lines(), /*oldest_first=*/true, customer, max,
               size, counts.max_state_bytes);
  }
  for (auto& slot : *customer.mutable_rules()) {
    if (!slot.state().has_browse()) continue;
    // Newest view first: the oldest view is the last.
    TrimOldest(*slot.mutable_state()->mutable_browse()->mutable_skus(), /*oldest_first=*/false,
               customer, max, size, counts.max_state_bytes);
  }
  // Ids a state written before holds one message each, or lists a damaged state left uneven.
  if (NormalizeEventIds(customer)) size = customer.ByteSizeLong();
  TrimOldestEventIds(customer, max, size, counts.max_state_bytes);
  if (size <= max || !customer.has_policy()) return;
  TrimOldest(*customer.mutable_policy()->mutable_sent(), /*oldest_first=*/true, customer, max, size,
             counts.max_state_bytes);
  // Sorted by release time: the one released last goes first.
  auto& deferred = *customer.mutable_policy()->mutable_deferred();
  while (size > max && !deferred.empty()) {
    if (dropped != nullptr) dropped->push_back(std::move(*deferred.rbegin()));
    deferred.RemoveLast();
    ++counts.max_state_bytes;
    size = customer.ByteSizeLong();
  }
}

}  // namespace

size_t TrimToLimits(CustomerState& customer, const StateLimits& limits, TrimCounts& counts,
                    std::vector<v1::state::DeferredTrigger>* dropped) {
  // mutable_cart() only for a customer with a cart: an empty one would change the stored bytes.
  if (customer.has_cart() && customer.cart().lines_size() > limits.max_cart_lines) {
    auto& lines = *customer.mutable_cart()->mutable_lines();
    const int excess = lines.size() - limits.max_cart_lines;
    lines.DeleteSubrange(0, excess);  // kept in the order first added: the oldest first
    counts.max_cart_lines += excess;
  }
  const size_t size = customer.ByteSizeLong();
  if (size <= limits.max_state_bytes) return size;  // without indexed_ms it is no larger
  TrimToMaxBytes(customer, limits, size, counts, dropped);
  return customer.ByteSizeLong();  // with indexed_ms back
}

size_t MinStateBytes(size_t max_field_bytes, size_t rule_count) {
  // Generous: every string at its longest with a 5-byte length, every number at 10 bytes.
  constexpr size_t kFixedCustomerBytes = 1024;  // times, counters, events per channel, cart
  constexpr size_t kFixedRuleBytes = 512;       // rule id (<= 64), due time, the kind's numbers
  const size_t field = max_field_bytes + 6;
  // The customer id and the cart's last change event id; per rule at most two strings of event
  // data (reward_window: campaign id and opener event id).
  // The policy state's part that does not grow with events: a consent and an engagement entry
  // per channel (16 channels at most, 17 + 15 bytes) and the time zone: a name the zone catalog
  // knows (IANA names are under 64 bytes) and its time.
  constexpr size_t kFixedPolicyBytes = 16 * (17 + 15) + 64 + 16;
  return kFixedCustomerBytes + kFixedPolicyBytes + 2 * field +
         rule_count * (kFixedRuleBytes + 2 * field);
}

}  // namespace touchstream
