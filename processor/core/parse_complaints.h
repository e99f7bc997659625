// What protobuf's parser says about a string field that is not valid UTF-8. The parse only
// fails; the field is named in a line protobuf logs (GOOGLE_LOG(ERROR), to stderr in its own
// format, once per record: a legacy producer sending Latin-1 at thousands of events a second
// fills the log). Inside a ParseComplaintScope that line is kept for the scope instead, and the
// event validator names the field in the dead letter's detail.
#pragma once

#include <string>

namespace touchstream {

// Installs protobuf's log handler (once, at start-up, before any parse): a complaint about a
// string field's UTF-8 made inside a ParseComplaintScope on its thread is kept for that scope;
// every other line goes to `forward` (null: dropped).
void CaptureParseComplaints(void (*forward)(const std::string& line));

// Around one parse, on one thread (scopes do not nest).
class ParseComplaintScope {
 public:
  ParseComplaintScope();
  ~ParseComplaintScope();
  ParseComplaintScope(const ParseComplaintScope&) = delete;
  ParseComplaintScope& operator=(const ParseComplaintScope&) = delete;

  // The complaint made in this scope (e.g. "string field
  // touchstream.v1.TouchpointEvent.store_id is not valid UTF-8"), or empty.
  const std::string& complaint() const;
};

}  // namespace touchstream
