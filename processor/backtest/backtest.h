// Backtest: the same per-partition task as `run` (PartitionTask), with no Kafka and an
// in-memory store. Events come in as JSON lines in input order (one partition, one
// watermark), triggers go out as JSON lines, and the policy stage's audit records (every
// decision other than an immediate send) as JSON lines of their own when asked for.
// Deterministic: pure event time; the wall-clock future-skew check is not applied.
#pragma once

#include <iosfwd>
#include <optional>

#include "processor/config/config.h"
#include "processor/core/memory_store.h"

namespace touchstream {

struct BacktestOptions {
  // Advance the watermark here after the last event (fires what is due by then).
  std::optional<TimeMs> until_ms;
  // Where the audit records go (proto/audit.proto as JSON lines, in decision order); null:
  // only counted in BacktestReport::audits. Not owned; must outlive the call.
  std::ostream* audit_out = nullptr;
};

struct BacktestReport {
  uint64_t events = 0;      // valid events applied
  uint64_t duplicates = 0;  // valid events skipped by input dedup
  uint64_t rejected = 0;    // lines that failed to parse or validate
  uint64_t triggers = 0;
  uint64_t audits = 0;  // policy decisions other than an immediate send (deferred, ...)
  TrimCounts trimmed;   // state entries trimmed to the limits (core/state_limits.h)
};

// Builds the config's rules first: a bad rule throws ConfigError before any input is read.
// Reads `in` to the end. Each rejected line is reported on `errors` as
// "line N: <reason>: <detail>". Triggers are written to `out`, one JSON object per line;
// audit records to `options.audit_out` the same way.
BacktestReport RunBacktest(const Config& config, std::istream& in, std::ostream& out,
                           std::ostream& errors, const BacktestOptions& options,
                           MemoryStore* store = nullptr);

}  // namespace touchstream
