#include <gtest/gtest.h>

#include "processor/config/config.h"
#include "processor/config/config_error.h"
#include "tests/unit/config_errors.h"

namespace touchstream {
namespace {

using testing::ParseErrorOf;

TEST(HttpConfigTest, DefaultsServeHealthButNotCustomers) {
  Config c = ParseConfig("", "test.yaml");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(c.healthz_max_poll_age_ms, 30 * kSecondMs);
  EXPECT_FALSE(c.customers_endpoint);
  EXPECT_FALSE(c.allocator_endpoint);
}

TEST(HttpConfigTest, ReadsEveryKey) {
  Config c = ParseConfig(
      "http: {listen: '127.0.0.1:9000', healthz_max_poll_age: 5s, customers_endpoint: true, "
      "allocator_endpoint: true}",
      "test.yaml");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9000");
  EXPECT_EQ(c.healthz_max_poll_age_ms, 5 * kSecondMs);
  EXPECT_TRUE(c.customers_endpoint);
  EXPECT_TRUE(c.allocator_endpoint);
  // Not limited to a loopback address: the report holds no customer data.
  EXPECT_TRUE(ParseConfig("http: {listen: '0.0.0.0:9464', allocator_endpoint: true}", "t.yaml")
                  .allocator_endpoint);
}

TEST(HttpConfigTest, ErrorsNameTheKey) {
  EXPECT_EQ(ParseErrorOf("http: {customers_endpoint: sometimes}"),
            "http.customers_endpoint: 'sometimes' is not true or false");
  EXPECT_EQ(ParseErrorOf("http: {healthz_max_poll_age: 0}"),
            "http.healthz_max_poll_age: must be greater than 0");
  EXPECT_EQ(ParseErrorOf("http: {healthz_max_poll_age: soon}"),
            "http.healthz_max_poll_age: invalid duration 'soon' (expected an integer with a "
            "unit: 500ms, 30s, 15m, 1h, 7d)");
  EXPECT_EQ(ParseErrorOf("http: {listen: '', customers_endpoint: true}"),
            "http.customers_endpoint: needs http.listen (it is empty)");
  EXPECT_EQ(ParseErrorOf("http: {listen: '', allocator_endpoint: true}"),
            "http.allocator_endpoint: needs http.listen (it is empty)");
  EXPECT_EQ(ParseErrorOf("http: {customer_endpoint: true}"), "http.customer_endpoint: unknown key");
  EXPECT_EQ(ParseErrorOf("http: {listen: '0.0.0.0:9464', customers_endpoint: true}"),
            "http.customers_endpoint: serves customer data, so only on a loopback http.listen "
            "(127.0.0.1:PORT, localhost:PORT or [::1]:PORT), not '0.0.0.0:9464'; reach it with "
            "kubectl port-forward or exec");
  EXPECT_EQ(ParseErrorOf("http: {listen: '9464', customers_endpoint: true}").substr(0, 40),
            "http.customers_endpoint: serves customer");
  // civetweb takes a list: every address in it (here the second binds every interface).
  EXPECT_EQ(
      ParseErrorOf("http: {listen: '127.0.0.1:9464,9465', customers_endpoint: true}").substr(0, 40),
      "http.customers_endpoint: serves customer");
  EXPECT_EQ(
      ParseErrorOf("http: {listen: '127.0.0.1:9464,', customers_endpoint: true}").substr(0, 40),
      "http.customers_endpoint: serves customer");
  EXPECT_EQ(ParseErrorOf("http: {listen: '127.0.0.1:9464,[::1]:9464', customers_endpoint: true}"),
            "no error");
}

}  // namespace
}  // namespace touchstream
