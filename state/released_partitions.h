// Copies of partitions this instance no longer owns (as Kafka Streams' state.cleanup.delay.ms).
// A revoked or lost partition's local data stays for state.cleanup_delay, so that taking it back
// soon reads only the changelog's tail (state/changelog_tail.h). Meanwhile it is "released"
// (StateDb::MarkReleased): /customers and state-dump never serve it, since its new owner may
// have carried out an erasure this copy never saw; after the delay it is deleted. Taking the
// partition over again clears the mark (CommitBatch::ClearReleased, in the fence's commit).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "processor/core/status.h"
#include "state/state_db.h"

namespace touchstream {

// Deletes the local data (customers, timers, `input_topic`'s checkpoint) of every partition
// released at least `delay_ms` before `now_ms` that `owned` does not claim, and its mark.
// Returns the partitions deleted.
StatusOr<std::vector<int32_t>> DeleteReleasedCopies(StateDb& db, const std::string& input_topic,
                                                    int64_t now_ms, int64_t delay_ms,
                                                    const std::function<bool(int32_t)>& owned);

}  // namespace touchstream
