// The HTTP endpoints of `touchstream run`, served by civetweb (one server, one port):
//   GET /metrics        Prometheus text format: the metrics registry and process metrics
//   GET /healthz        200 "ok" while the consume loop polls, else 503 with the reason
//   GET /readyz         200 "ok" when ready (see HealthState), else 503 with the reason
//   GET /customers/{id} 200 JSON of the customer's committed state, 404 if unknown; only
//                       when enabled (off by default: it shows one customer's data)
//   GET /debug/allocator
//                       the allocator's (jemalloc's) own statistics report, text: where the
//                       memory behind touchstream_allocator_bytes goes, by size class; only when
//                       enabled (off by default: each report briefly takes the allocator's
//                       locks, which the processing thread needs too); 404 when the process does
//                       not run on jemalloc
// Any other path is 404.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "processor/core/status.h"
#include "processor/health/health_state.h"
#include "processor/metrics/metrics.h"

class CivetServer;

namespace touchstream {

// Looks up one customer; returns its JSON view, nullopt if unknown. Called on HTTP threads.
using CustomerLookup = std::function<StatusOr<std::optional<std::string>>(const std::string&)>;

struct HttpOptions {
  std::string listen;                // host:port
  int64_t max_poll_age_ms = 30'000;  // /healthz fails when the last poll is older
  bool customers_endpoint = false;
  bool allocator_endpoint = false;
};

// Safe for concurrent use. Handlers run on civetweb's threads until the server is destroyed.
class HttpServer {
 public:
  // Starts serving. `metrics` and `health` must outlive the server. Errors: the address is
  // invalid or cannot be bound (kInvalidArgument).
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, Metrics& metrics,
                                                     HealthState& health);
  ~HttpServer();

  // Sets (or, with nullptr, clears) the source of /customers/{id}. Clear it before whatever
  // the lookup reads is destroyed: clearing waits for lookups in progress, and none starts
  // after it returns. Until set, the endpoint answers 503.
  void SetCustomerLookup(CustomerLookup lookup);

  // The ports actually bound (useful with port 0).
  std::vector<int> ports() const;

  // For the handlers: the response to one GET of `path`.
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  Response Get(const std::string& path) const;

 private:
  class Handler;
  HttpServer(const HttpOptions& options, Metrics& metrics, HealthState& health);

  // Constant after construction.
  const HttpOptions options_;
  Metrics& metrics_;
  HealthState& health_;

  // Guards lookup_: held shared for the whole of each lookup, exclusively to change it.
  mutable std::shared_mutex lookup_mutex_;
  CustomerLookup lookup_;

  // Destroyed first (joins civetweb's threads) so no handler outlives the members above.
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace touchstream
