// Deterministic crash points for fault tests: with TOUCHSTREAM_CRASH_AT=<point>[:<n>] in the
// environment, the n-th (default 1st) time the process passes <point> it aborts at once
// (SIGABRT, no cleanup), as a kill -9 would stop it there. Unset: each call is one branch.
//
// Points: after_poll (a record was consumed, not yet applied), batch_built (a commit's
// WriteBatch is built, not written), db_write (the commit is in RocksDB, its records not yet
// handed to the producer), produce_queued (a record was handed to the producer), delivery_report
// (a delivery report arrived, the outbox entry is not yet deleted; exactly_once: the transaction
// committed), outbox_delete (the outbox below the oldest unacknowledged record was deleted;
// at_least_once only, exactly_once stores none), revoke (inside the rebalance callback, after the
// revoked partitions' commit).
#pragma once

namespace touchstream {

// The point names above; an unknown name in the variable is reported once and ignored.
void CrashPoint(const char* point);

}  // namespace touchstream
