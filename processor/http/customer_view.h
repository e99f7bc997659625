// The read-only JSON view behind GET /customers/{id}: the customer's committed state as
// `touchstream state-dump` prints it, plus the input partition that owns it.
#pragma once

#include "processor/http/http_server.h"
#include "state/state_db.h"

namespace touchstream {

// A lookup reading `db` (which must outlive every call; clear the lookup from the server
// before closing the store). Shows committed state: at most one commit interval old.
CustomerLookup MakeCustomerLookup(StateDb& db);

}  // namespace touchstream
