#include "processor/http/customer_view.h"

#include "processor/json/json_lines.h"

namespace touchstream {

CustomerLookup MakeCustomerLookup(StateDb& db) {
  return [&db](const std::string& id) -> StatusOr<std::optional<std::string>> {
    auto found = db.FindCustomer(id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return std::optional<std::string>();
    const auto& [partition, state] = **found;
    return std::optional<std::string>("{\"partition\":" + std::to_string(partition) +
                                      ",\"state\":" + ToJsonLine(state) + "}");
  };
}

}  // namespace touchstream
