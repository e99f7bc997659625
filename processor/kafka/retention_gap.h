// A source partition whose next offset to process is not in its log: a retention gap (the
// offset was deleted by retention before it was processed; events were lost upstream) or an
// offset past the log's end (the topic was recreated, or an unclean leader election truncated
// the log). The group consumer runs with auto.offset.reset=error, so librdkafka reports both
// as ERR__AUTO_OFFSET_RESET instead of jumping silently; processing.on_retention_gap says what
// follows: `fail` (the default) stops the instance, `skip_to_earliest` continues from the
// earliest offset in the log.
//
// Where it is decided. At an assignment (GroupMembership::TakeOver) every source partition's
// stored next offset is checked against its watermarks (ResumeOffset), and a skip moves the
// checkpoint before the partition is assigned. While consuming, librdkafka stops fetching the
// partition at the error, and a seek cannot restart it (its fetch is not started: ERR__STATE),
// so a skip there commits and rejoins the group: the next assignment's check moves past the gap.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <string>

#include "processor/core/status.h"
#include "processor/kafka/watermarks.h"

namespace touchstream {

// Where a source partition named `name` resumes, from its stored next offset `next` (0: none,
// the beginning) and its log's `watermarks`.
struct Resume {
  int64_t offset = 0;   // where to resume: `next`, or the earliest offset after a skip
  std::string problem;  // empty when `next` is in the log (or at its end); else what is wrong
  bool gap = false;     // the problem is a retention gap (counted as one), not a log's end
};
// Pure. With a problem and `skip` false, the caller fails with KafkaError(problem + how to
// continue); with `skip`, it logs the problem and resumes at `offset`.
Resume ResumeOffset(const std::string& name, int64_t next, const Watermarks& watermarks);

// The KafkaError of `problem` under on_retention_gap: fail, saying how to continue.
Status GapError(const std::string& problem);

// For `message` (an ERR__AUTO_OFFSET_RESET event while consuming): unless `skip`, the
// KafkaError naming the partition and how to continue; with `skip`, Ok after logging that the
// instance rejoins the group to move past it (the caller commits and rejoins).
Status OnRetentionGap(const RdKafka::Message& message, bool skip);

}  // namespace touchstream
