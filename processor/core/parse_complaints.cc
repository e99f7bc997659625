#include "processor/core/parse_complaints.h"

#include <google/protobuf/stubs/logging.h>

#include <string_view>

namespace touchstream {

namespace {

void (*forward_)(const std::string&) = nullptr;
thread_local bool armed_ = false;  // inside a ParseComplaintScope
thread_local std::string complaint_;

// protobuf 3.21 (wire_format_lite.cc, PrintUTF8ErrorLog): "String field 'NAME' contains invalid
// UTF-8 data when parsing a protocol buffer. ..."
void Handle(google::protobuf::LogLevel /*level*/, const char* /*file*/, int /*line*/,
            const std::string& message) {
  constexpr std::string_view kPrefix = "String field '";
  if (armed_ && message.starts_with(kPrefix) &&
      message.find("invalid UTF-8 data when parsing") != std::string::npos) {
    const size_t end = message.find('\'', kPrefix.size());
    if (end != std::string::npos) {
      complaint_ = "string field " + message.substr(kPrefix.size(), end - kPrefix.size()) +
                   " is not valid UTF-8";
      return;
    }
  }
  // protobuf ends the process itself after a FATAL line.
  if (forward_ != nullptr) forward_(message);
}

}  // namespace

void CaptureParseComplaints(void (*forward)(const std::string& line)) {
  forward_ = forward;
  google::protobuf::SetLogHandler(&Handle);
}

ParseComplaintScope::ParseComplaintScope() {
  armed_ = true;
  complaint_.clear();
}

ParseComplaintScope::~ParseComplaintScope() { armed_ = false; }

const std::string& ParseComplaintScope::complaint() const { return complaint_; }

}  // namespace touchstream
