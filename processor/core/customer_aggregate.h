// The unified online + offline aggregate of one customer, updated by each valid event.
// Pure: no I/O, no clock. Rules read the aggregate after it has been updated.
#pragma once

#include "processor/core/time.h"
#include "state.pb.h"
#include "touchpoint.pb.h"

namespace touchstream {

using CustomerState = v1::state::CustomerState;

// In-store, store Wi-Fi and call centre are offline; every other channel is online.
bool IsOfflineChannel(v1::Channel channel);

// Engagement = any event except consent changes, erasure requests and identify.
bool IsEngagement(v1::EventType type);

// What applying one event changed, for the rules that react to it.
struct AppliedEvent {
  bool new_customer = false;
  bool engagement = false;
  bool cart_changed = false;
  // Last activity before this event (0 for a new customer).
  TimeMs previous_last_activity_ms = 0;
};

// Applies `event` to `state`: first seen, last activity and channel, events per channel,
// online/offline purchases, lifetime value and the cart (see README, "The aggregate").
AppliedEvent ApplyEvent(const v1::TouchpointEvent& event, CustomerState& state);

// The state of rule `rule_id`, nullptr if it has none.
v1::state::RuleState* FindRuleState(CustomerState& customer, const std::string& rule_id);
const v1::state::RuleState* FindRuleState(const CustomerState& customer,
                                          const std::string& rule_id);
// The state of rule `rule_id`, created empty (in rule_id order) if missing. The reference is
// valid until the next call that adds or removes a rule state of this customer.
v1::state::RuleState& RuleStateFor(CustomerState& customer, const std::string& rule_id);
// Whether a rule's state is empty: nothing armed, nothing remembered, nothing to serialize.
bool IsEmptyRuleState(const v1::state::RuleState& state);
// Removes the rule's state if it is empty.
void DropRuleStateIfEmpty(CustomerState& customer, const std::string& rule_id);
// Gives rule `rule_id`, which has no state for the customer, `state` unless it is empty: swapped
// into a new slot (in rule_id order), which leaves `state` empty. A rule runs on such a blank
// state where the customer has none of it, so that an event that leaves the rule without state
// makes no slot to drop again.
void AddRuleStateIfNotEmpty(CustomerState& customer, const std::string& rule_id,
                            v1::state::RuleState& state);

// Σ quantity × unit price over the cart.
int64_t CartTotalMinor(const v1::state::Cart& cart);

// The amount of an order (a purchase) as the aggregate counts it in lifetime value: its
// `amount_minor` if set, else Σ quantity × unit price over its items; saturating (README, the
// event contract).
int64_t OrderTotalMinor(const v1::TouchpointEvent& event);

}  // namespace touchstream
