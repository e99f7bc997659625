// The `privacy` section (README "Privacy"):
//   privacy:
//     hash_key: "..."            # the HMAC key of customer hashes; at least 16 bytes
//     hash_key_env: NAME         # or: the environment variable holding it (e.g. a Kubernetes
//                                # secret); at most one of the two
//     erasure_memory: 30d        # how long (event time) an erasure drops the customer's
//                                # earlier events
// Without a key, erasure requests still erase everything, but nothing is remembered and ERASED
// audit records carry no hash (the service logs a warning at start-up). The key is never logged.
#pragma once

#include "processor/config/yaml_reader.h"
#include "processor/core/erasure_memory.h"

namespace touchstream {

// Reads the section; throws ConfigError naming the key.
PrivacySettings ReadPrivacySection(YamlReader privacy);

}  // namespace touchstream
