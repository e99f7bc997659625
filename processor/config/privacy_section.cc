#include "processor/config/privacy_section.h"

#include <cstdlib>

#include "processor/config/config_error.h"

namespace touchstream {

namespace {
constexpr size_t kMinHashKeyBytes = 16;
}  // namespace

PrivacySettings ReadPrivacySection(YamlReader privacy) {
  PrivacySettings settings;
  settings.hash_key = privacy.String("hash_key", "");
  const std::string env = privacy.String("hash_key_env", "");
  if (!env.empty()) {
    if (!settings.hash_key.empty()) {
      throw ConfigError(privacy.Key("hash_key_env") + ": set either it or " +
                        privacy.Key("hash_key") + ", not both");
    }
    const char* value = std::getenv(env.c_str());
    if (value == nullptr || *value == '\0') {
      throw ConfigError(privacy.Key("hash_key_env") + ": the environment variable " + env +
                        " is not set");
    }
    settings.hash_key = value;
  }
  if (!settings.hash_key.empty() && settings.hash_key.size() < kMinHashKeyBytes) {
    throw ConfigError((env.empty() ? privacy.Key("hash_key") : privacy.Key("hash_key_env")) +
                      ": must be at least " + std::to_string(kMinHashKeyBytes) + " bytes");
  }
  settings.erasure_memory_ms = privacy.Duration("erasure_memory", settings.erasure_memory_ms);
  if (settings.erasure_memory_ms <= 0) {
    throw ConfigError(privacy.Key("erasure_memory") + ": must be greater than 0");
  }
  privacy.Finish();
  return settings;
}

}  // namespace touchstream
