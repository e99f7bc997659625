#include "state/restore_ingest.h"

#include <rocksdb/options.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>

#include "processor/core/erasure_memory.h"
#include "state/keys.h"
#include "state/rocks_status.h"

namespace touchstream {

namespace {

constexpr std::string_view kFilePrefix = "restore-";
constexpr std::string_view kFileSuffix = ".sst";

std::string FilePath(const std::string& dir, int32_t partition, const char* family) {
  return dir + "/" + std::string(kFilePrefix) + std::to_string(partition) + "-" + family +
         std::string(kFileSuffix);
}

// `writer`'s file finished, as one file to ingest into `family`.
StatusOr<rocksdb::IngestExternalFileArg> Finished(rocksdb::SstFileWriter& writer,
                                                  const std::string& path,
                                                  rocksdb::ColumnFamilyHandle* family) {
  if (Status s = FromRocks(writer.Finish(), "cannot write " + path); !s.ok()) return s;
  rocksdb::IngestExternalFileArg arg;
  arg.column_family = family;
  arg.external_files = {path};
  arg.options.move_files = true;  // a hard link, not a copy
  // The wipe's deletions may still be in a memtable: flushed first, so that the file lands
  // above them.
  arg.options.allow_blocking_flush = true;
  return arg;
}

}  // namespace

RestoreIngest::RestoreIngest(StateDb& db, int32_t partition, TimeMs watermark_ms)
    : db_(db),
      partition_(partition),
      watermark_ms_(watermark_ms),
      customers_path_(FilePath(db.dir(), partition, "customers")),
      timers_path_(FilePath(db.dir(), partition, "timers")) {}

void RestoreIngest::RemoveLeftovers(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > kFilePrefix.size() + kFileSuffix.size() && name.rfind(kFilePrefix, 0) == 0 &&
        name.compare(name.size() - kFileSuffix.size(), kFileSuffix.size(), kFileSuffix) == 0) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

RestoreIngest::~RestoreIngest() {
  customers_.reset();
  RemoveFiles();
}

void RestoreIngest::RemoveFiles() {
  std::remove(customers_path_.c_str());
  std::remove(timers_path_.c_str());
}

StatusOr<std::unique_ptr<rocksdb::SstFileWriter>> RestoreIngest::OpenWriter(
    const std::string& path, rocksdb::ColumnFamilyHandle* family) {
  rocksdb::Options options = db_.db_->GetOptions(family);
  options.compression_per_level.clear();
  options.compression = rocksdb::kNoCompression;
  options.bottommost_compression = rocksdb::kDisableCompressionOption;
  auto writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options, family);
  std::remove(path.c_str());
  if (Status s = FromRocks(writer->Open(path), "cannot write " + path); !s.ok()) return s;
  return writer;
}

Status RestoreIngest::Put(std::string_view customer_id, const std::string_view* value,
                          const v1::state::CustomerState* state) {
  std::string key = keys::Customer(partition_, customer_id);
  if (!last_key_.empty() && key <= last_key_) {
    return Status::Internal("restore ingest: customer ids out of order at '" +
                            std::string(customer_id) + "'");
  }
  if (state != nullptr) {
    for (const TimerKey& timer : TimersOfEntry(customer_id, *state, watermark_ms_)) {
      timer_keys_.push_back(keys::Timer(partition_, timer));
    }
  }
  if (value == nullptr) {
    last_key_ = std::move(key);
    return Status::Ok();
  }
  if (!customers_) {
    auto writer = OpenWriter(customers_path_, db_.customers());
    if (!writer.ok()) return writer.status();
    customers_ = std::move(*writer);
  }
  Status s = FromRocks(customers_->Put(key, rocksdb::Slice(value->data(), value->size())),
                       "cannot write " + customers_path_);
  last_key_ = std::move(key);
  return s;
}

Status RestoreIngest::Finish() {
  std::vector<rocksdb::IngestExternalFileArg> args;
  if (customers_) {  // opened at the first value
    auto arg = Finished(*customers_, customers_path_, db_.customers());
    if (!arg.ok()) return arg.status();
    args.push_back(std::move(*arg));
    customers_.reset();
  }
  if (!timer_keys_.empty()) {
    std::sort(timer_keys_.begin(), timer_keys_.end());
    timer_keys_.erase(std::unique(timer_keys_.begin(), timer_keys_.end()), timer_keys_.end());
    auto timers = OpenWriter(timers_path_, db_.timers());
    if (!timers.ok()) return timers.status();
    for (const std::string& key : timer_keys_) {
      if (Status s = FromRocks((*timers)->Put(key, ""), "cannot write " + timers_path_); !s.ok()) {
        return s;
      }
    }
    auto arg = Finished(**timers, timers_path_, db_.timers());
    if (!arg.ok()) return arg.status();
    args.push_back(std::move(*arg));
    std::vector<std::string>().swap(timer_keys_);
  }
  if (args.empty()) return Status::Ok();
  Status s = FromRocks(db_.db_->IngestExternalFiles(args), "cannot ingest the restored state");
  ingested_ = s.ok();
  return s;
}

}  // namespace touchstream
