// StateStore: what the daemon remembers between runs (links, base snapshots, cursors,
// inbox, outbox, rate-limit budgets), behind a small interface so that a PostgreSQL
// backend can replace SQLite when one instance is no longer enough.
//
// This is the part every backend shares: opening (done by each backend's factory, such as
// OpenSqlite), schema version, flushing and closing. The tables arrive with their issues.
//
// Thread-safety: a store has one owner; calls are not synchronised.
#pragma once

#include <string>

#include "core/result.h"

namespace ghl::state {

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The number of the last schema migration applied to the store. After a successful
  // open this is the newest migration the daemon knows.
  virtual Result<int> SchemaVersion() = 0;

  // Where the store lives, for log lines and `ghl-syncd status` ("sqlite:/var/lib/...").
  // Never contains a secret.
  virtual std::string Describe() const = 0;

  // Makes everything committed so far durable in the store's main file(s), so that a
  // copy of them is a complete backup. The daemon calls it at shutdown after the last
  // write. For SQLite: a TRUNCATE checkpoint of the write-ahead log.
  virtual Result<void> Checkpoint() = 0;

  // Releases the connection. Idempotent; every other call fails afterwards. The
  // destructor closes too, but only Close reports a failure.
  virtual Result<void> Close() = 0;
};

}  // namespace ghl::state
