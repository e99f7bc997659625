// The relay's series, created at zero at start-up for every topic and outcome it can report
// (README, Metrics: every series without a partition label exists at zero from start-up). A
// series first created by its first failure starts at 1, and Prometheus's increase() over it
// is 0: the alerts on delivery errors and undeliverable records would miss it.
#pragma once

#include "processor/config/config.h"
#include "processor/metrics/metrics.h"

namespace touchstream {

void CreateOutputSeries(const Config& config, Metrics& metrics);

}  // namespace touchstream
