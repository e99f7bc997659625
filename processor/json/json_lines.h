// JSON lines in and out, in protobuf's canonical JSON mapping (lowerCamelCase field names,
// enums by name, RFC 3339 timestamps, 64-bit integers as strings). Used by produce, tail,
// backtest and the demo.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "processor/core/status.h"

namespace touchstream {

// Parses one JSON object into `message` (cleared first). Unknown fields are an error, so a
// misspelt field name is reported instead of silently dropped.
Status ParseJsonLine(std::string_view line, google::protobuf::Message* message);

// One line of JSON, no trailing newline. Fields at their default value are omitted.
std::string ToJsonLine(const google::protobuf::Message& message);

// True for lines to skip: blank or starting with '#'.
bool IsBlankOrComment(std::string_view line);

}  // namespace touchstream
