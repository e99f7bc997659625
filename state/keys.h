// Byte encodings of RocksDB keys. All are order-preserving so that a column family iterates
// in the order the processor needs (timers: due time, then customer id, then rule id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "processor/core/partition_store.h"

namespace touchstream::keys {

// customers CF: [partition u32 BE][customer id].
std::string Customer(int32_t partition, std::string_view customer_id);
// The same into `out`, replacing what it held (its buffer reused: no allocation per key).
void AssignCustomer(std::string& out, int32_t partition, std::string_view customer_id);

// timers CF: [partition u32 BE][due ms, sign-flipped u64 BE][escaped customer id][rule id].
// The customer id is escaped (0x00 -> 0x00 0xFF) and terminated by 0x00 0x01 so that ids
// sort as plain strings would.
std::string Timer(int32_t partition, const TimerKey& key);
// The same into `out`, replacing what it held (its buffer reused: no allocation per key).
void AssignTimer(std::string& out, int32_t partition, const TimerKey& key);
std::optional<TimerKey> DecodeTimer(std::string_view encoded);
// The prefix shared by all keys of one partition (customers and timers).
std::string PartitionPrefix(int32_t partition);

// checkpoints CF: [topic][0x00][partition u32 BE].
std::string Checkpoint(std::string_view topic, int32_t partition);

// checkpoints CF, a changelog partition's restore hint: [0xFF]["restore-hint"][0x00][changelog
// topic][0x00][partition u32 BE]. No topic name holds 0xFF, so it is no checkpoint's key.
std::string RestoreHint(std::string_view changelog_topic, int32_t partition);

// checkpoints CF, a partition whose local copy this instance no longer owns:
// [0xFF]["released"][0x00][partition u32 BE] (state/released_partitions.h).
std::string Released(int32_t partition);
// The prefix of every Released key; DecodeReleased: its partition, nullopt if not one.
std::string ReleasedPrefix();
std::optional<int32_t> DecodeReleased(std::string_view encoded);

// outbox CF: [sequence u64 BE].
std::string Outbox(uint64_t seq);
uint64_t DecodeOutbox(std::string_view encoded);

}  // namespace touchstream::keys
