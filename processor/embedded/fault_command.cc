#include "processor/embedded/fault_command.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace touchstream {

namespace {

constexpr int kMaxDelayMs = 3'600'000;  // an hour: longer is a typo, not a fault
constexpr int kMaxCount = 100'000;      // the mock keeps every pushed error in memory

using Words = std::vector<std::string_view>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Words Split(std::string_view line) {
  Words words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

// A decimal integer in [min, max], nothing else (no sign unless min < 0, no
// spaces, no units).
StatusOr<int64_t> ParseInt(std::string_view word, int64_t min, int64_t max, std::string_view what) {
  int64_t value = 0;
  const char* end = word.data() + word.size();
  auto [ptr, ec] = std::from_chars(word.data(), end, value);
  if (word.empty() || ec != std::errc() || ptr != end) {
    return Status::InvalidArgument(std::string(what) + ": '" + std::string(word) +
                                   "' is not an integer");
  }
  if (value < min || value > max) {
    return Status::InvalidArgument(std::string(what) + ": " + std::string(word) +
                                   " is out of range [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  }
  return value;
}

// A broker id (>= 1: the mock numbers its brokers from 1), or `special` spelled
// as `special_word` when that is allowed.
StatusOr<int32_t> ParseBroker(std::string_view word, std::string_view special_word = {},
                              int32_t special = 0) {
  if (!special_word.empty() && Lower(word) == special_word) return special;
  auto id = ParseInt(word, 1, std::numeric_limits<int32_t>::max(), "broker id");
  if (!id.ok()) {
    if (special_word.empty()) return id.status();
    return Status::InvalidArgument(id.status().message() + " (or '" + std::string(special_word) +
                                   "')");
  }
  return static_cast<int32_t>(*id);
}

constexpr char kBrokerDownUsage[] = "broker-down <broker-id|all>";
constexpr char kBrokerUpUsage[] = "broker-up <broker-id|all>";
constexpr char kLeaderUsage[] = "leader <topic> <partition> <broker-id|none>";
constexpr char kCoordinatorUsage[] = "coordinator group|transaction <id> <broker-id>";
constexpr char kRttUsage[] = "rtt <broker-id|all> <ms>";
constexpr char kErrorsUsage[] = "errors <api> <error> [count]";
constexpr char kErrorsRttUsage[] = "errors-rtt <broker-id> <api> <error> <ms> [count]";
constexpr char kClearErrorsUsage[] = "clear-errors [api]";
constexpr char kPendingErrorsUsage[] = "pending-errors <broker-id> <api>";

struct CommandDoc {
  const char* usage;
  const char* meaning;
};
constexpr CommandDoc kCommands[] = {
    {kBrokerDownUsage, "disconnect the broker and refuse connections (its leaderships stay)"},
    {kBrokerUpUsage, "accept connections again"},
    {kLeaderUsage, "move the partition's leader (none: leaderless)"},
    {kCoordinatorUsage, "move the coordinator of a consumer group or transactional id"},
    {kRttUsage, "delay every response of the broker by ms (0: no delay)"},
    {kErrorsUsage, "fail the next count (default 1) requests of api, on whichever broker"},
    {kErrorsRttUsage,
     "fail the broker's next count requests of api, each response delayed by "
     "ms "
     "(error NO_ERROR: delay only)"},
    {kClearErrorsUsage,
     "drop what 'errors' queued (every api by default); 'errors-rtt' entries "
     "cannot be "
     "dropped, they drain"},
    {kPendingErrorsUsage, "how many 'errors-rtt' entries the broker has not used yet"},
    {"help", "this list"},
};
constexpr char kErrorNames[] =
    "a Kafka error name as librdkafka spells it (NOT_LEADER_FOR_PARTITION, "
    "REQUEST_TIMED_OUT, "
    "NOT_COORDINATOR, ...), or _TRANSPORT (close the connection)";

std::string ApiNames() {
  std::string names;
  for (const FaultableApi& api : FaultableApis()) {
    names += (names.empty() ? "" : ", ") + std::string(api.name);
  }
  return names;
}

StatusOr<FaultableApi> ParseApi(std::string_view word) {
  const std::string lower = Lower(word);
  for (const FaultableApi& api : FaultableApis()) {
    if (Lower(api.name) == lower) return api;
  }
  return Status::InvalidArgument("unknown API '" + std::string(word) + "' (one of: " + ApiNames() +
                                 ")");
}

// librdkafka's error names (rd_kafka_get_err_descs) without the
// RD_KAFKA_RESP_ERR_ prefix. Only errors a broker can return (code >= -1) and
// _TRANSPORT, which makes the mock broker close the connection; librdkafka's
// other internal codes never come from a broker.
StatusOr<rd_kafka_resp_err_t> ParseError(std::string_view word) {
  std::string name = Upper(word);
  constexpr std::string_view kPrefix = "RD_KAFKA_RESP_ERR_";
  if (name.starts_with(kPrefix)) name = name.substr(kPrefix.size());
  if (name == "NOT_LEADER_OR_FOLLOWER") return RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name == nullptr || name != descs[i].name) continue;
    if (descs[i].code >= -1 || descs[i].code == RD_KAFKA_RESP_ERR__TRANSPORT) {
      return descs[i].code;
    }
    return Status::InvalidArgument("error " + name +
                                   " is librdkafka-internal, no broker returns it (only "
                                   "_TRANSPORT, a disconnect, is)");
  }
  return Status::InvalidArgument("unknown error name '" + std::string(word) +
                                 "' (a Kafka error name such as NOT_LEADER_FOR_PARTITION, "
                                 "REQUEST_TIMED_OUT, NOT_COORDINATOR, or _TRANSPORT)");
}

Status Arity(const Words& w, size_t min, size_t max, std::string_view usage) {
  if (w.size() - 1 < min || w.size() - 1 > max) {
    return Status::InvalidArgument("usage: " + std::string(usage));
  }
  return Status::Ok();
}

// Stores `value` in `*out`, or keeps its error in `*error` unless an earlier
// one is there.
template <typename T, typename U>
void Take(StatusOr<U> value, T* out, Status* error) {
  if (!value.ok()) {
    if (error->ok()) *error = value.status();
  } else {
    *out = static_cast<T>(*value);
  }
}

StatusOr<FaultCommand> ParseWords(const Words& w) {
  FaultCommand c;
  Status error;  // the first bad word
  const std::string verb = Lower(w[0]);
  if (verb == "help") {
    if (Status s = Arity(w, 0, 0, "help"); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kHelp;
  } else if (verb == "broker-down" || verb == "broker-up") {
    const bool down = verb == "broker-down";
    if (Status s = Arity(w, 1, 1, down ? kBrokerDownUsage : kBrokerUpUsage); !s.ok()) return s;
    c.kind = down ? FaultCommand::Kind::kBrokerDown : FaultCommand::Kind::kBrokerUp;
    Take(ParseBroker(w[1], "all", kAllBrokers), &c.broker_id, &error);
  } else if (verb == "leader") {
    if (Status s = Arity(w, 3, 3, kLeaderUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kLeader;
    c.topic = std::string(w[1]);
    Take(ParseInt(w[2], 0, std::numeric_limits<int32_t>::max(), "partition"), &c.partition, &error);
    Take(ParseBroker(w[3], "none", kNoLeader), &c.broker_id, &error);
  } else if (verb == "coordinator") {
    if (Status s = Arity(w, 3, 3, kCoordinatorUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kCoordinator;
    c.key_type = Lower(w[1]);
    if (c.key_type != "group" && c.key_type != "transaction") {
      return Status::InvalidArgument("coordinator type must be 'group' or 'transaction', not '" +
                                     std::string(w[1]) + "'");
    }
    c.key = std::string(w[2]);
    Take(ParseBroker(w[3]), &c.broker_id, &error);
  } else if (verb == "rtt") {
    if (Status s = Arity(w, 2, 2, kRttUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kRtt;
    Take(ParseBroker(w[1], "all", kAllBrokers), &c.broker_id, &error);
    Take(ParseInt(w[2], 0, kMaxDelayMs, "ms"), &c.delay_ms, &error);
  } else if (verb == "errors") {
    if (Status s = Arity(w, 2, 3, kErrorsUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kErrors;
    Take(ParseApi(w[1]), &c.api, &error);
    Take(ParseError(w[2]), &c.error, &error);
    if (error.ok() && c.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::InvalidArgument(
          "NO_ERROR injects nothing; use errors-rtt to delay responses without "
          "an error");
    }
    if (w.size() == 4) Take(ParseInt(w[3], 1, kMaxCount, "count"), &c.count, &error);
  } else if (verb == "errors-rtt") {
    if (Status s = Arity(w, 4, 5, kErrorsRttUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kErrorsRtt;
    Take(ParseBroker(w[1]), &c.broker_id, &error);
    Take(ParseApi(w[2]), &c.api, &error);
    Take(ParseError(w[3]), &c.error, &error);
    Take(ParseInt(w[4], 0, kMaxDelayMs, "ms"), &c.delay_ms, &error);
    if (w.size() == 6) Take(ParseInt(w[5], 1, kMaxCount, "count"), &c.count, &error);
  } else if (verb == "clear-errors") {
    if (Status s = Arity(w, 0, 1, kClearErrorsUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kClearErrors;
    if (w.size() == 2) Take(ParseApi(w[1]), &c.api, &error);
  } else if (verb == "pending-errors") {
    if (Status s = Arity(w, 2, 2, kPendingErrorsUsage); !s.ok()) return s;
    c.kind = FaultCommand::Kind::kPendingErrors;
    Take(ParseBroker(w[1]), &c.broker_id, &error);
    Take(ParseApi(w[2]), &c.api, &error);
  } else {
    return Status::InvalidArgument("unknown command '" + std::string(w[0]) + "' (try 'help')");
  }
  if (!error.ok()) return error;
  return c;
}

}  // namespace

const std::vector<FaultableApi>& FaultableApis() {
  static const std::vector<FaultableApi> kApis = {
      {"Produce", 0},      {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
      {"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},   {"LeaveGroup", 13}, {"SyncGroup", 14},       {"InitProducerId", 22},
      {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
      {"TxnOffsetCommit", 28},
  };
  return kApis;
}

StatusOr<FaultCommand> ParseFaultCommand(std::string_view line) {
  const Words words = Split(line);
  if (words.empty()) return Status::InvalidArgument("empty command (try 'help')");
  return ParseWords(words);
}

std::string FaultCommandUsage() {
  std::string text;
  for (const auto& [usage, meaning] : kCommands)
    text += "  " + std::string(usage) + ": " + meaning + "\n";
  return text + "  <api>: " + ApiNames() + "\n" + "  <error>: " + kErrorNames + "\n";
}

std::string FaultCommandSummary() {
  std::string text = "commands:";
  for (const auto& [usage, meaning] : kCommands)
    text += std::string(text.back() == ':' ? " " : "; ") + usage;
  return text + "; api: " + ApiNames() + "; error: " + kErrorNames;
}

std::string FaultErrorName(rd_kafka_resp_err_t error) { return rd_kafka_err2name(error); }

}  // namespace touchstream
