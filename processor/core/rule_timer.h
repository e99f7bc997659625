// A rule state's entry in the timer index, re-armed lazily.
//
// A rule's due time mostly moves later: each visit restarts a win-back's dormancy, each cart
// change restarts the cart's hour. Moving the index entry each time costs a delete and a put
// (in real time a 7-day entry is rewritten on every visit). Instead the entry stays where it
// was, the state remembers where (RuleState.indexed_ms, earlier than due_ms), and when that
// entry comes due the pipeline re-arms it at the due time: no trigger, no change to the state,
// as Netty's idle-state handler does. A due time that moves earlier, or is cleared, moves the
// entry at once.
//
// Invariant, for a state with due time D and indexed_ms I: with D == 0 the index holds no entry
// for (customer, rule); with I == 0 one entry at D; with 0 < I < D one entry, at I until the
// pipeline pops it and then at D. The state is not written at the re-arm, so an I at or before
// the watermark W is stale once every entry due by W has been popped (the pipeline applies
// events, erasures included, only then): the entry is at IndexedAt(state, W).
//
// So indexed_ms, unlike the rest of the state, depends on the partition's watermark when the
// customer's events were applied, not on those events alone: two runs that read the same events
// in different partitionings (or under the hybrid clock) may store different indexed_ms. Triggers,
// audit records and what the state limits trim do not depend on it (the limits measure the state
// without it); the stored state does, and shows it (state-dump, the customer view, the changelog's
// values): a comparison of stored states across such runs must leave indexed_ms out.
//
// The bytes indexed_ms adds to a stored state, at most kLaggingEntryMaxBytes per rule, are on top
// of limits.max_state_bytes; the config check that a changelog record fits message.max.bytes
// counts them.
//
// A build from before lazy re-arm keeps indexed_ms as an unknown field and drops a lagging entry
// when it pops (its due time differs): going back to one, and forward again after that, needs the
// local state directory removed, so that the changelog restore rebuilds the index from the states.
#pragma once

#include <cstddef>

#include "processor/core/time.h"
#include "state.pb.h"

namespace touchstream {

// At most what a rule state's indexed_ms adds to a serialized customer state: its tag and a
// varint of up to 10 bytes, and a byte more in each of the two length prefixes around it.
inline constexpr size_t kLaggingEntryMaxBytes = 13;

// Where the state's index entry is (0: none), once every entry due at or before `watermark_ms`
// has been popped: an erasure's and a restore's view. (A restore may be of a commit made while a
// backlog of due timers was still firing: an entry due at or before its watermark is then still
// to pop, as it was in the committing instance.)
TimeMs IndexedAt(const v1::state::RuleState& state, TimeMs watermark_ms);

// The same when an event is applied, every entry due at or before the watermark popped: an entry
// there is gone (it fired, or was dropped while its rule was out of the config), so 0.
TimeMs LiveEntry(const v1::state::RuleState& state, TimeMs watermark_ms);

// What a popped index entry of the state's rule, due at `due_ms`, stands for.
enum class PoppedTimer {
  kDue,    // the rule's timer: call OnTimer
  kRearm,  // a lagging entry: index the state's due time instead, nothing else
  kStale,  // an entry the state no longer accounts for: dropped
};
PoppedTimer ClassifyPopped(const v1::state::RuleState& state, TimeMs due_ms);

// The index change that keeps a rule's entry in step after the rule ran: `indexed_before` is
// where the entry was (LiveEntry before the rule ran, 0 after its entry was popped). Sets
// state.indexed_ms. A field left 0 means no change of that kind.
struct TimerMove {
  TimeMs cancel_ms = 0;
  TimeMs schedule_ms = 0;
};
TimerMove FollowDue(v1::state::RuleState& state, TimeMs indexed_before);

}  // namespace touchstream
