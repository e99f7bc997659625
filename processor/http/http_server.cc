#include "processor/http/http_server.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "processor/metrics/allocator_collector.h"

namespace touchstream {

namespace {

constexpr char kCustomersPrefix[] = "/customers/";

// Enough workers that a few slow or idle clients cannot keep a probe (/healthz, /readyz)
// waiting, and a short limit on reading a request so that they let go soon.
constexpr char kWorkerThreads[] = "16";
constexpr char kRequestTimeoutMs[] = "2000";

}  // namespace

// Adapts civetweb's callback to HttpServer::Get.
class HttpServer::Handler : public CivetHandler {
 public:
  explicit Handler(const HttpServer& server) : server_(server) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* request = mg_get_request_info(conn);
    // Decoded once and not cleaned as a path: local_uri would read a customer id "a%2F%2Fb" as
    // "a/b" and "x%2F..%2Fy" as "y", another customer.
    const char* path = request->local_uri_raw != nullptr ? request->local_uri_raw : "";
    const Response response = server_.Get(path);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              response.status, mg_get_response_code_text(conn, response.status),
              response.content_type.c_str(), response.body.size());
    mg_write(conn, response.body.data(), response.body.size());
    return true;
  }

 private:
  const HttpServer& server_;
};

HttpServer::HttpServer(const HttpOptions& options, Metrics& metrics, HealthState& health)
    : options_(options), metrics_(metrics), health_(health) {}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options,
                                                        Metrics& metrics, HealthState& health) {
  std::unique_ptr<HttpServer> server(new HttpServer(options, metrics, health));
  server->handler_ = std::make_unique<Handler>(*server);
  mg_init_library(0);
  try {
    server->server_ = std::make_unique<CivetServer>(
        std::vector<std::string>{"listening_ports", options.listen, "num_threads", kWorkerThreads,
                                 "request_timeout_ms", kRequestTimeoutMs});
  } catch (const CivetException& e) {
    return Status::InvalidArgument("cannot listen on '" + options.listen + "': " + e.what());
  }
  for (const char* uri : {"/metrics", "/healthz", "/readyz", "/customers", "/debug/allocator"}) {
    server->server_->addHandler(uri, *server->handler_);
  }
  return server;
}

HttpServer::~HttpServer() {
  server_.reset();  // joins the worker threads before the handler and lookup go
}

void HttpServer::SetCustomerLookup(CustomerLookup lookup) {
  std::unique_lock<std::shared_mutex> lock(lookup_mutex_);
  lookup_ = std::move(lookup);
}

std::vector<int> HttpServer::ports() const { return server_->getListeningPorts(); }

HttpServer::Response HttpServer::Get(const std::string& path) const {
  Response response;
  if (path == "/metrics") {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& collectable : metrics_.collectables()) {
      for (auto& family : collectable->Collect()) families.push_back(std::move(family));
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = out.str();
    return response;
  }
  if (path == "/healthz" || path == "/readyz") {
    const HealthVerdict verdict = path == "/healthz"
                                      ? health_.Live(SteadyNowMs(), options_.max_poll_age_ms)
                                      : health_.Ready();
    response.status = verdict.ok ? 200 : 503;
    response.body = verdict.reason + "\n";
    return response;
  }
  if (path == "/debug/allocator" && options_.allocator_endpoint) {
    if (std::optional<std::string> report = AllocatorReport(FindMallocStatsPrint())) {
      response.body = std::move(*report);
    } else {
      response.status = 404;
      response.body = "not running on jemalloc: no allocator report\n";
    }
    return response;
  }
  if (path.rfind(kCustomersPrefix, 0) == 0 && options_.customers_endpoint) {
    const std::string id = path.substr(sizeof(kCustomersPrefix) - 1);
    // Held through the lookup: the store it reads cannot close under it.
    std::shared_lock<std::shared_mutex> lock(lookup_mutex_);
    if (id.empty()) {
      response.status = 400;
      response.body = "missing customer id\n";
    } else if (!lookup_) {
      response.status = 503;
      response.body = "state store not open\n";
    } else if (auto found = lookup_(id); !found.ok()) {
      response.status = 500;
      response.body = found.status().message() + "\n";
    } else if (!found->has_value()) {
      response.status = 404;
      response.body = "unknown customer\n";
    } else {
      response.content_type = "application/json";
      response.body = **found + "\n";
    }
    return response;
  }
  response.status = 404;
  response.body = "not found\n";
  return response;
}

}  // namespace touchstream
