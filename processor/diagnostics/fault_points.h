// Deterministic fault points for fault tests.
//
// Crash points: with TOUCHSTREAM_CRASH_AT=<point>[:<n>] in the environment, the n-th (default
// 1st) time the process passes <point> it aborts at once (SIGABRT, no cleanup), as a kill -9
// would stop it there. Points: after_poll (a record was consumed, not yet applied), batch_built
// (a commit's WriteBatch is built, not written), db_write (the commit is in RocksDB, its records
// not yet handed to the producer), produce_queued (a record was handed to the producer),
// delivery_report (a delivery report arrived, the outbox entry is not yet deleted; exactly_once:
// the transaction committed), outbox_delete (the outbox below the oldest unacknowledged record
// was deleted; at_least_once only, exactly_once stores none), revoke (inside the rebalance
// callback, after the revoked partitions' commit).
//
// Failure points: with TOUCHSTREAM_FAIL_AT=<point>[:<n>], the n-th (default 1st) pass of <point>
// fails, once, as the operation it stands for fails in production; every other pass succeeds.
// Passes are counted across the process's threads (state_read: the HTTP server's reads too).
// Points: state_read (a read of a customer's stored state returns RocksDB's I/O error, as a
// failing disk's read does).
//
// Unset, each call is one branch. An unknown name in a variable is reported once and ignored.
#pragma once

namespace touchstream {

void CrashPoint(const char* point);

// True on the pass that must fail; the caller makes its operation fail there.
bool FailPoint(const char* point);

}  // namespace touchstream
