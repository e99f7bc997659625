// The embedded Kafka's control channel: one text line per command (the grammar
// is FaultCommandUsage()), parsed into a FaultCommand. Parsing is pure: it
// checks syntax, names and ranges, not the cluster (whether a broker id or a
// topic exists is checked when the command is applied, see
// EmbeddedKafka::ApplyFault). Safe for concurrent use.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "processor/core/status.h"

namespace touchstream {

// A broker id that means every broker (broker-down/up, rtt), as the mock API
// spells it.
inline constexpr int32_t kAllBrokers = -1;
// A partition leader id that means no leader (`leader <topic> <partition>
// none`).
inline constexpr int32_t kNoLeader = -1;

// A Kafka request type whose requests the mock cluster can fail or delay: the
// protocol's ApiKey (librdkafka's RD_KAFKAP_*, which its public headers do not
// export).
struct FaultableApi {
  const char* name;  // as Kafka names the request, e.g. "Produce"
  int16_t key;
};
// Every API whose mock handler consults the injected-error stacks
// (librdkafka 2.0.2's rdkafka_mock_handlers.c), in ApiKey order.
const std::vector<FaultableApi>& FaultableApis();

struct FaultCommand {
  enum class Kind {
    kHelp,           // help
    kBrokerDown,     // broker-down <broker|all>
    kBrokerUp,       // broker-up <broker|all>
    kLeader,         // leader <topic> <partition> <broker|none>
    kCoordinator,    // coordinator group|transaction <key> <broker>
    kRtt,            // rtt <broker|all> <ms>
    kErrors,         // errors <api> <error> [count]
    kErrorsRtt,      // errors-rtt <broker> <api> <error> <ms> [count]
    kClearErrors,    // clear-errors [api]
    kPendingErrors,  // pending-errors <broker> <api>
  };

  Kind kind = Kind::kHelp;
  // kBrokerDown/Up, kRtt: a broker id or kAllBrokers; kLeader: a broker id or
  // kNoLeader; kCoordinator, kErrorsRtt, kPendingErrors: a broker id.
  int32_t broker_id = kAllBrokers;
  std::string topic;         // kLeader
  int32_t partition = 0;     // kLeader
  std::string key_type;      // kCoordinator: "group" or "transaction"
  std::string key;           // kCoordinator: the group id or transactional id
  int delay_ms = 0;          // kRtt, kErrorsRtt
  FaultableApi api{"", -1};  // kErrors, kErrorsRtt, kPendingErrors; kClearErrors: key -1 = all
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;  // kErrors, kErrorsRtt
  int count = 1;  // kErrors, kErrorsRtt: how many requests it applies to
};

// Parses one line (surrounding whitespace and a trailing '\r' are ignored;
// words are separated by spaces or tabs; command, API and error names are
// case-insensitive). Returns InvalidArgument with a reason fit for "error:
// <reason>" on anything else, empty lines included.
StatusOr<FaultCommand> ParseFaultCommand(std::string_view line);

// The grammar, one line per command with what it does, for --help.
std::string FaultCommandUsage();
// The grammar on one line, the reply to `help`.
std::string FaultCommandSummary();

// librdkafka's name of `error` without the RD_KAFKA_RESP_ERR_ prefix, e.g.
// "NOT_LEADER_FOR_PARTITION" or "_TRANSPORT".
std::string FaultErrorName(rd_kafka_resp_err_t error);

}  // namespace touchstream
