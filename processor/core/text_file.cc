#include "processor/core/text_file.h"

#include <fstream>
#include <sstream>

namespace touchstream {

std::optional<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

}  // namespace touchstream
