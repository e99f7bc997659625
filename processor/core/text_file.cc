#include "processor/core/text_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace touchstream {

std::optional<std::string> ReadTextFile(const std::string& path) {
  // A directory opens as an empty stream (and reads as nothing): not a file.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return std::nullopt;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

}  // namespace touchstream
