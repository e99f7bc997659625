// What protobuf's parser says about a string field that is not valid UTF-8. The parse only
// fails; the field is named in a line protobuf logs (GOOGLE_LOG(ERROR), to stderr in its own
// format, once per record: a legacy producer sending Latin-1 at thousands of events a second
// fills the log). With the capture installed, that line is kept for the parsing thread instead,
// and the event validator names the field in the dead letter's detail.
#pragma once

#include <string>

namespace touchstream {

// Installs protobuf's log handler (once, at start-up, before any parse): a complaint about a
// string field's UTF-8 is kept for the logging thread (TakeParseComplaint); every other line
// goes to `forward` (null: dropped).
void CaptureParseComplaints(void (*forward)(const std::string& line));

// The complaint the parses on this thread left since the last call (e.g. "string field
// touchstream.v1.TouchpointEvent.store_id is not valid UTF-8"), or empty; clears it.
std::string TakeParseComplaint();

}  // namespace touchstream
