// Errors on the data path are values. RocksDB, protobuf and librdkafka all report errors by
// return value; Status carries any of them as a code plus a human-readable message.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace touchstream {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,
    kNotFound,
    kIoError,
    kKafkaError,
    kInternal,
    kUnavailable,       // transient: nothing was changed; the same call may succeed later
    kCorruption,        // stored local data does not parse, or RocksDB reports it corrupt: local
                        // damage, rebuilt from the changelog (never said of the changelog itself)
    kDeadlineExceeded,  // a deadline passed first (a stop's, Relay::StopBy, or a call's last
                        // attempt): what the call began may or may not have taken effect, as
                        // after a crash
    kMembershipLost,    // the consumer group moved on without this member (exactly_once: its
                        // input offsets refused for an old generation): what it did since its
                        // last commit is given up, and it rejoins
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status KafkaError(std::string msg) {
    return Status(Code::kKafkaError, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status Unavailable(std::string msg) {
    return Status(Code::kUnavailable, std::move(msg));
  }
  static Status Corruption(std::string msg) {
    return Status(Code::kCorruption, std::move(msg));
  }
  static Status DeadlineExceeded(std::string msg) {
    return Status(Code::kDeadlineExceeded, std::move(msg));
  }
  static Status MembershipLost(std::string msg) {
    return Status(Code::kMembershipLost, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "OK" : message_; }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains its absence. value() on an error is a programming error.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace touchstream
