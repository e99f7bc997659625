// A librdkafka plugin for tests (`plugin.library.paths`): librdkafka calls its conf_init each time
// a configuration sets that property, and a `set` whose conf_init fails is refused, so the client
// cannot be built. Each client costs two calls: the application's set, and the copy of the
// configuration the client keeps (librdkafka 2.0.2 ignores a refusal there). After
// `touchstream_test_refuse_after(n)` the first n calls load and every later one is refused, as
// when a client can no longer be created (e.g. its files or resources are gone). A test holds
// its own dlopen handle, so that the count survives the clients that unload the plugin.
#include <librdkafka/rdkafka.h>

#include <cstdio>

namespace {
int allowed = -1;  // -1: never refuse
int loaded = 0;
}  // namespace

extern "C" {

void touchstream_test_refuse_after(int n) {
  allowed = n;
  loaded = 0;
}

rd_kafka_resp_err_t conf_init(rd_kafka_conf_t* conf, void** plug_opaquep, char* errstr,
                              size_t errstr_size) {
  if (allowed >= 0 && loaded >= allowed) {
    std::snprintf(errstr, errstr_size, "refused by the test plugin after %d conf_init calls",
                  allowed);
    return RD_KAFKA_RESP_ERR__INVALID_ARG;
  }
  ++loaded;
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // extern "C"
