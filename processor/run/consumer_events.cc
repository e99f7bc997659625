#include "processor/run/consumer_events.h"

#include <string>

#include "processor/diagnostics/log.h"

namespace touchstream {

void ConsumerEvents::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_STATS:
      OnStatistics(event.str());
      break;
    case RdKafka::Event::EVENT_LOG: {
      // librdkafka's levels are syslog's: 0-3 errors, 4 warnings, 5-7 notices, info, debug.
      const std::string line = "librdkafka group consumer " + event.fac() + ": " + event.str();
      const int level = static_cast<int>(event.severity());
      if (level <= RdKafka::Event::EVENT_SEVERITY_ERROR) {
        LogError(line);
      } else if (level == RdKafka::Event::EVENT_SEVERITY_WARNING) {
        LogWarn(line);
      } else {
        LogInfo(line);
      }
      break;
    }
    case RdKafka::Event::EVENT_ERROR:
      // What librdkafka logs of an error without a callback; consumer errors the loop must act
      // on (a partition's end, a retention gap, a fatal error) come through its polls.
      LogError(std::string("librdkafka group consumer ") + (event.fatal() ? "FATAL" : "ERROR") +
               ": " + RdKafka::err2str(event.err()) + ": " + event.str());
      break;
    default:  // throttling: librdkafka says nothing of it without a callback either
      break;
  }
}

void ConsumerEvents::OnStatistics(const std::string& json) {
  StatusOr<ConsumerStatisticsReading> reading = statistics_.Read(json);
  if (!reading.ok()) {
    if (reports_refused_.fetch_add(1) == 0) {
      LogWarn(reading.status().message() + " (touchstream_records_fetched_total stays as it is)");
    }
    return;
  }
  for (const auto& [topic, fetched] : reading->fetched) {
    if (fetched > 0) metrics_.records_fetched(topic).Increment(static_cast<double>(fetched));
  }
  metrics_.consumer_queued_bytes().Set(static_cast<double>(reading->queued_bytes));
  reports_read_.fetch_add(1);
}

}  // namespace touchstream
