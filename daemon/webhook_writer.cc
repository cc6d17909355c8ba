#include "daemon/webhook_writer.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <vector>

namespace ghl::daemon {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kLockPoll = std::chrono::microseconds(200);
// A failing store (lock held, disk full) fails every batch; say so once per interval.
constexpr auto kWarnInterval = std::chrono::seconds(10);

}  // namespace

Result<std::unique_ptr<InboxWriter>> InboxWriter::Start(Options options) {
  auto db = options.open();
  if (!db.ok()) return Error{"webhook inbox writer: " + db.error().message};
  // Per connection: a commit returns only once it is on disk, so a 200 is never undone.
  // busy_timeout 0: Append() waits for a held lock itself.
  if (auto pragmas = (*db)->Exec("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 0");
      !pragmas.ok()) {
    return pragmas.error();
  }
  state::InboxStore probe(**db);
  auto depth = probe.Depth();
  if (!depth.ok()) return Error{"webhook inbox writer: " + depth.error().message};
  return std::unique_ptr<InboxWriter>(
      new InboxWriter(std::move(options), std::move(db).value(), *depth));
}

InboxWriter::InboxWriter(Options options, std::unique_ptr<state::sqlite::Db> db, int64_t depth)
    : options_(std::move(options)), db_(std::move(db)), inbox_(*db_), depth_(depth) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  next_refresh_ = SteadyClock::now();
  next_prune_ = SteadyClock::now();
  thread_ = std::thread([this] { Run(); });
}

InboxWriter::~InboxWriter() { Stop(); }

bool InboxWriter::Submit(state::InboxItem item, Done done) {
  const size_t bytes = item.body.size() + item.headers_json.size() + item.webhook_id.size();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stop_ || queued_bytes_ + bytes > options_.max_queued_bytes) return false;
    queue_.push_back({std::move(item), std::move(done)});
    queued_bytes_ += bytes;
    queued_.fetch_add(1);
    // The writer sleeps until the queue is non-empty, or lingers until it holds a batch.
    wake = queue_.size() == 1 || queue_.size() >= std::min(last_batch_, options_.max_batch);
  }
  if (wake) cv_.notify_one();
  return true;
}

int64_t InboxWriter::Backlog() const { return depth_.load() + queued_.load(); }

void InboxWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  if (auto closed = db_->Close(); !closed.ok()) spdlog::warn("{}", closed.error().message);
}

void InboxWriter::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_until(lock, next_refresh_, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stop_) return;
      lock.unlock();
      Housekeeping();
      lock.lock();
      continue;
    }
    std::deque<Entry> batch = TakeBatch(lock);
    lock.unlock();
    Commit(batch);
    Housekeeping();
    lock.lock();
  }
}

std::deque<InboxWriter::Entry> InboxWriter::TakeBatch(std::unique_lock<std::mutex>& lock) {
  // Linger for company only when the last batch had some: a lone client (one webhook at a
  // time) would just wait out commit_wait on every request. Expect about as many as last
  // time, and never wait longer than commit_wait.
  const size_t expect = std::min(last_batch_, options_.max_batch);
  if (options_.commit_wait.count() > 0 && expect > 1 && queue_.size() < expect && !stop_) {
    cv_.wait_for(lock, options_.commit_wait, [&] { return stop_ || queue_.size() >= expect; });
  }
  std::deque<Entry> batch;
  while (!queue_.empty() && batch.size() < options_.max_batch) {
    const auto& item = queue_.front().item;
    queued_bytes_ -= item.body.size() + item.headers_json.size() + item.webhook_id.size();
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  last_batch_ = batch.size();
  return batch;
}

void InboxWriter::Commit(std::deque<Entry>& batch) {
  std::vector<state::InboxItem> items;
  items.reserve(batch.size());
  for (auto& entry : batch) items.push_back(std::move(entry.item));
  const auto start = SteadyClock::now();
  auto results = Append(items);
  const std::chrono::duration<double> took = SteadyClock::now() - start;
  if (options_.observer.committed) options_.observer.committed(batch.size(), took, results.ok());
  if (!results.ok()) {
    ++failed_batches_;
    const auto now = SteadyClock::now();
    if (now >= next_warning_) {
      spdlog::warn("webhook inbox: {} batch(es) not committed, answered 429 (GHL retries): {}",
                   failed_batches_, results.error().message);
      failed_batches_ = 0;
      next_warning_ = now + kWarnInterval;
    }
  } else {
    int64_t stored = 0;
    for (auto r : *results) stored += r == state::AppendResult::kStored ? 1 : 0;
    depth_.fetch_add(stored);
  }
  queued_.fetch_sub(static_cast<int64_t>(batch.size()));
  for (size_t i = 0; i < batch.size(); ++i) {
    Outcome outcome = Outcome::kBusy;
    if (results.ok()) {
      outcome =
          (*results)[i] == state::AppendResult::kStored ? Outcome::kStored : Outcome::kDuplicate;
    }
    batch[i].done(outcome);
  }
}

Result<std::vector<state::AppendResult>> InboxWriter::Append(
    const std::vector<state::InboxItem>& items) {
  const auto deadline = SteadyClock::now() + options_.lock_wait;
  for (;;) {
    auto results = inbox_.Append(items, NowMs());
    // SQLITE_BUSY: another connection holds the write lock (BEGIN IMMEDIATE failed).
    if (results.ok() || (db_->LastErrorCode() & 0xff) != SQLITE_BUSY ||
        SteadyClock::now() >= deadline) {
      return results;
    }
    std::this_thread::sleep_for(kLockPoll);
  }
}

void InboxWriter::Housekeeping() {
  const auto now = SteadyClock::now();
  if (now >= next_refresh_) {
    next_refresh_ = now + options_.refresh_interval;
    auto depth = inbox_.Depth();
    auto oldest = inbox_.OldestPendingAgeMs(NowMs());
    if (depth.ok() && oldest.ok()) {
      depth_.store(*depth);
      if (options_.observer.refreshed) options_.observer.refreshed(*depth, *oldest);
    }
  }
  if (now >= next_prune_) {
    next_prune_ = now + options_.prune_interval;
    auto pruned = inbox_.Prune(options_.retention, NowMs());
    if (!pruned.ok()) {
      spdlog::debug("webhook inbox: prune postponed: {}", pruned.error().message);
    } else if (pruned->seen + pruned->rows > 0) {
      spdlog::debug("webhook inbox: pruned {} seen id(s) and {} processed row(s)", pruned->seen,
                    pruned->rows);
    }
  }
}

int64_t InboxWriter::NowMs() const {
  const auto now = options_.clock != nullptr ? options_.clock->Now() : SystemClock().Now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

}  // namespace ghl::daemon
