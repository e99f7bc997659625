// Start-up configuration errors. Exceptions are used only at start-up; the message always
// names the offending key, e.g. "rules.cart_1h.delay: invalid duration 'soon'".
#pragma once

#include <stdexcept>
#include <string>

namespace touchstream {

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace touchstream
