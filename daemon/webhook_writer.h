// InboxWriter: group commit of verified webhooks into the inbox, on its own thread and its
// own SQLite connection, so the event loop never waits on a disk.
//
// Submit() queues one webhook. The writer takes everything queued (when the last batch had
// more than one webhook, waiting at most `commit_wait` for about as many to share the
// transaction; never more than `max_batch`), appends it with one
// InboxStore::Append, and then reports each webhook's outcome: kStored or kDuplicate once
// the COMMIT has returned (with synchronous=FULL: on disk), or kBusy when the commit failed
// (write lock held by another connection past `lock_wait`, disk full, I/O error): nothing
// of that batch is stored and the caller answers 429 so that GHL retries.
//
// A held write lock (the sync engine committing) is waited for by polling every 200 µs,
// not by SQLite's busy handler, whose sleeps grow to tens of milliseconds: under load the
// two writers would otherwise spend most of their time asleep.
//
// Between batches (about once a second) it refreshes the inbox depth and the age of the
// oldest pending row, and every minute prunes seen ids and finished rows past `retention`.
//
// Thread-safety: Submit, Backlog and Stop may be called from any thread. `done` callbacks
// and the observer run on the writer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "state/inbox.h"
#include "state/sqlite.h"

namespace ghl::daemon {

class InboxWriter {
 public:
  enum class Outcome { kStored, kDuplicate, kBusy };
  using Done = std::function<void(Outcome)>;
  using OpenDb = std::function<Result<std::unique_ptr<state::sqlite::Db>>()>;

  struct Observer {
    std::function<void(size_t batch, std::chrono::duration<double> took, bool ok)> committed;
    std::function<void(int64_t depth, std::optional<int64_t> oldest_age_ms)> refreshed;
  };

  struct Options {
    OpenDb open;  // the writer's own connection to the state file (its busy timeout is unused)
    std::chrono::milliseconds lock_wait{1000};  // how long a commit waits for the write lock
    std::chrono::milliseconds commit_wait{2};
    size_t max_batch = 1000;
    std::chrono::milliseconds retention = std::chrono::days(7);
    std::chrono::milliseconds refresh_interval = std::chrono::seconds(1);
    std::chrono::milliseconds prune_interval = std::chrono::minutes(1);
    size_t max_queued_bytes = 64 << 20;  // Submit refuses beyond this (memory bound)
    const Clock* clock = nullptr;        // wall time for received/seen times; not owned
    Observer observer;
  };

  // Opens the connection (synchronous=FULL), reads the current depth and starts the thread.
  static Result<std::unique_ptr<InboxWriter>> Start(Options options);
  ~InboxWriter();  // Stop()
  InboxWriter(const InboxWriter&) = delete;
  InboxWriter& operator=(const InboxWriter&) = delete;

  // Queues `item`; `done` is called exactly once, later, on the writer thread. Returns false
  // (and never calls `done`) when stopping or when the queue holds max_queued_bytes.
  bool Submit(state::InboxItem item, Done done);

  // Pending rows in the inbox (as last counted, plus those stored since) plus those queued.
  int64_t Backlog() const;

  // Commits what is queued, then ends the thread and closes the connection. Idempotent.
  void Stop();

 private:
  struct Entry {
    state::InboxItem item;
    Done done;
  };
  InboxWriter(Options options, std::unique_ptr<state::sqlite::Db> db, int64_t depth);
  void Run();
  std::deque<Entry> TakeBatch(std::unique_lock<std::mutex>& lock);
  void Commit(std::deque<Entry>& batch);
  Result<std::vector<state::AppendResult>> Append(const std::vector<state::InboxItem>& items);
  void Housekeeping();
  int64_t NowMs() const;

  Options options_;
  std::unique_ptr<state::sqlite::Db> db_;  // writer thread only
  state::InboxStore inbox_;                // writer thread only
  std::chrono::steady_clock::time_point next_refresh_, next_prune_, next_warning_;
  int64_t failed_batches_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;  // under mu_
  size_t queued_bytes_ = 0;  // under mu_
  bool stop_ = false;        // under mu_
  size_t last_batch_ = 1;    // under mu_: size of the batch taken last
  std::atomic<int64_t> depth_{0};
  std::atomic<int64_t> queued_{0};
  std::thread thread_;
};

}  // namespace ghl::daemon
