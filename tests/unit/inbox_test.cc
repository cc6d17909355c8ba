// The webhook inbox on a real SQLite state file: append with dedupe in one transaction,
// pending order, done/skipped inside the caller's transaction, depth, age and pruning.
#include "state/inbox.h"

#include <gtest/gtest.h>

#include "state/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace ghl::state {
namespace {

using namespace std::chrono_literals;

InboxItem Item(const std::string& id, int64_t at, const std::string& body = "{}") {
  return {id, at, body, R"({"signature":"ed25519"})"};
}

std::vector<std::string> Ids(const std::vector<InboxRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.webhook_id);
  return out;
}

class InboxTest : public ::testing::Test {
 protected:
  InboxTest() {
    auto store = OpenSqlite({.path = dir_ / "state.db"});
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    store_ = std::move(store).value();
  }
  sqlite::Db& db() { return store_->db(); }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStateStore> store_;
};

TEST_F(InboxTest, AppendStoresOnceAndReportsReplaysAsDuplicates) {
  InboxStore inbox(db());
  const std::string body = "{\"type\":\"ContactCreate\",\"name\":\"Zo\xc3\xab\"}";
  auto first = inbox.Append({Item("w1", 1000, body), Item("w2", 1001), Item("w1", 1002)}, 1000);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, (std::vector<AppendResult>{AppendResult::kStored, AppendResult::kStored,
                                               AppendResult::kDuplicate}))
      << "a repeat inside one batch is a duplicate too";
  auto again = inbox.Append({Item("w2", 2000), Item("w3", 2001)}, 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, (std::vector<AppendResult>{AppendResult::kDuplicate, AppendResult::kStored}));

  auto rows = inbox.Pending(10);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Ids(*rows), (std::vector<std::string>{"w1", "w2", "w3"}));
  EXPECT_EQ((*rows)[0].body, body) << "the raw bytes come back unchanged";
  EXPECT_EQ((*rows)[0].received_at, 1000);
  EXPECT_EQ((*rows)[0].headers_json, R"({"signature":"ed25519"})");
  EXPECT_EQ(inbox.Depth().value(), 3);
  EXPECT_EQ(db().QueryInt64("SELECT count(*) FROM webhook_seen").value(), 3);
}

TEST_F(InboxTest, AFailedAppendStoresNothingOfItsBatch) {
  InboxStore inbox(db());
  ASSERT_TRUE(db().Exec("BEGIN").ok());
  auto nested = inbox.Append({Item("w1", 1)}, 1);
  EXPECT_FALSE(nested.ok()) << "Append opens its own transaction";
  ASSERT_TRUE(db().Exec("ROLLBACK").ok());

  // Another connection holds the write lock: the batch fails whole and can be retried.
  auto other = sqlite::Db::Open(dir_ / "state.db", 0ms);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN EXCLUSIVE").ok());
  auto locked = sqlite::Db::Open(dir_ / "state.db", 0ms);
  ASSERT_TRUE(locked.ok());
  InboxStore blocked(**locked);
  auto refused = blocked.Append({Item("w1", 1), Item("w2", 2)}, 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("locked"), std::string::npos) << refused.error().message;
  ASSERT_TRUE((*other)->Exec("ROLLBACK").ok());
  EXPECT_EQ(inbox.Depth().value(), 0);
  EXPECT_EQ(db().QueryInt64("SELECT count(*) FROM webhook_seen").value(), 0)
      << "a refused webhook is not remembered as seen, so GHL's retry is stored";
  auto retried = blocked.Append({Item("w1", 1), Item("w2", 2)}, 3);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(inbox.Depth().value(), 2);
}

TEST_F(InboxTest, MarkDoneIsPartOfTheCallersTransaction) {
  InboxStore inbox(db());
  ASSERT_TRUE(inbox.Append({Item("a", 10), Item("b", 20), Item("c", 30)}, 30).ok());
  const auto rows = inbox.Pending(10).value();
  ASSERT_EQ(rows.size(), 3u);

  // The engine's change fails: its rollback leaves the row pending.
  auto failed = db().Transaction([&]() -> Result<void> {
    if (auto r = inbox.MarkDone(rows[0].id, "synced", 100); !r) return r;
    return Error{"downstream write failed"};
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(inbox.Depth().value(), 3);

  auto committed = db().Transaction([&]() -> Result<void> {
    if (auto r = inbox.MarkDone(rows[0].id, "synced", 100); !r) return r;
    return inbox.MarkSkipped(rows[1].id, "unknown location", 100);
  });
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_EQ(Ids(inbox.Pending(10).value()), (std::vector<std::string>{"c"}));
  EXPECT_EQ(inbox.Depth().value(), 1);
  EXPECT_EQ(db().QueryText("SELECT state || ':' || note FROM webhook_inbox WHERE id = " +
                           std::to_string(rows[1].id))
                .value(),
            "skipped:unknown location");

  auto twice = inbox.MarkDone(rows[0].id, "again", 200);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("is not pending"), std::string::npos);
  EXPECT_FALSE(inbox.MarkSkipped(999, "", 200).ok());
}

TEST_F(InboxTest, PendingPagesOldestFirstAndDepthAndAgeFollow) {
  InboxStore inbox(db());
  EXPECT_EQ(inbox.OldestPendingAgeMs(5000).value(), std::nullopt);
  std::vector<InboxItem> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(Item("w" + std::to_string(i), 1000 + i));
  ASSERT_TRUE(inbox.Append(batch, 1004).ok());
  auto page = inbox.Pending(2).value();
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"w0", "w1"}));
  EXPECT_EQ(Ids(inbox.Pending(2, page.back().id).value()), (std::vector<std::string>{"w2", "w3"}));
  EXPECT_EQ(inbox.OldestPendingAgeMs(5000).value(), 4000);
  ASSERT_TRUE(inbox.MarkDone(page[0].id, "", 6000).ok());
  EXPECT_EQ(inbox.OldestPendingAgeMs(5000).value(), 3999);
  EXPECT_EQ(inbox.Depth().value(), 4);
}

TEST_F(InboxTest, PruneForgetsOldSeenIdsAndOldFinishedRowsButNeverPendingOnes) {
  InboxStore inbox(db());
  const int64_t day = 86'400'000;
  ASSERT_TRUE(inbox.Append({Item("old-done", 0), Item("old-pending", 0)}, 0).ok());
  ASSERT_TRUE(inbox.Append({Item("new-done", 5 * day)}, 5 * day).ok());
  const auto rows = inbox.Pending(10).value();
  ASSERT_TRUE(inbox.MarkDone(rows[0].id, "", 0).ok());
  ASSERT_TRUE(inbox.MarkDone(rows[2].id, "", 5 * day).ok());

  auto pruned = inbox.Prune(std::chrono::days(2), 5 * day);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->seen, 2) << "old-done and old-pending ids";
  EXPECT_EQ(pruned->rows, 1) << "only old-done's row";
  EXPECT_EQ(Ids(inbox.Pending(10).value()), (std::vector<std::string>{"old-pending"}));
  EXPECT_EQ(db().QueryInt64("SELECT count(*) FROM webhook_inbox").value(), 2);

  // A forgotten id is accepted again (the timestamp window refuses real replays by then).
  EXPECT_EQ(inbox.Append({Item("old-done", 5 * day)}, 5 * day).value()[0], AppendResult::kStored);
  EXPECT_EQ(inbox.Append({Item("new-done", 5 * day)}, 5 * day).value()[0],
            AppendResult::kDuplicate);
}

// A row whose change failed waits on its own: Pending() leaves it out until its retry
// time while the rows behind it come; a row given up on is kept (not pruned, not pending)
// until it is retried or dropped.
TEST_F(InboxTest, DeferredRowsWaitAloneAndFailedRowsWaitForAnOperator) {
  InboxStore inbox(db());
  ASSERT_TRUE(inbox.Append({Item("bad", 0), Item("good", 0), Item("later", 0)}, 0).ok());
  const auto rows = inbox.Pending(10, 0, 1000).value();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].attempts, 0);

  EXPECT_EQ(inbox.Defer(rows[0].id, "customFields is not an array", 3000).value(), 1);
  EXPECT_EQ(Ids(inbox.Pending(10, 0, 2999).value()), (std::vector<std::string>{"good", "later"}));
  EXPECT_EQ(inbox.Depth().value(), 3) << "a deferred row is still pending";
  auto again = inbox.Pending(10, 0, 3000).value();
  ASSERT_EQ(Ids(again), (std::vector<std::string>{"bad", "good", "later"}));
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(inbox.Defer(rows[0].id, "still not", 5000).value(), 2);
  EXPECT_EQ(inbox.Defer(rows[0].id, "its sync is down", 5000, /*count=*/false).value(), 2)
      << "an attempt during an outage is not counted";

  ASSERT_TRUE(inbox.MarkFailed(rows[0].id, "customFields is not an array", 6000).ok());
  ASSERT_TRUE(inbox.MarkDone(rows[1].id, "", 6000).ok());
  EXPECT_FALSE(inbox.Defer(rows[0].id, "x", 1).ok()) << "a failed row is not pending";
  EXPECT_EQ(Ids(inbox.Pending(10, 0, 1'000'000).value()), (std::vector<std::string>{"later"}));
  EXPECT_EQ(inbox.FailedCount().value(), 1);
  auto failed = inbox.Failed(10).value();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].webhook_id, "bad");
  EXPECT_EQ(failed[0].attempts, 3) << "two deferrals and the last attempt";
  EXPECT_EQ(failed[0].error, "customFields is not an array");
  EXPECT_EQ(failed[0].failed_at, 6000);
  EXPECT_EQ(inbox.FailedById(rows[0].id).value()->webhook_id, "bad");
  EXPECT_FALSE(inbox.FailedById(rows[1].id).value().has_value()) << "a done row is not failed";

  auto pruned = inbox.Prune(1h, 100 * 86'400'000LL);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->rows, 1) << "the done row only";
  EXPECT_EQ(inbox.FailedCount().value(), 1) << "retention never deletes a failed webhook";

  EXPECT_FALSE(inbox.Retry(rows[2].id).value()) << "only failed rows are retried";
  EXPECT_TRUE(inbox.Retry(rows[0].id).value());
  auto back = inbox.Pending(10, 0, 0).value();
  ASSERT_EQ(Ids(back), (std::vector<std::string>{"bad", "later"}));
  EXPECT_EQ(back[0].attempts, 0) << "a replayed webhook gets its attempts back";

  ASSERT_TRUE(inbox.MarkFailed(rows[0].id, "again", 7000).ok());
  EXPECT_TRUE(inbox.Drop(rows[0].id).value());
  EXPECT_FALSE(inbox.Drop(rows[0].id).value());
  EXPECT_EQ(inbox.FailedCount().value(), 0);
  EXPECT_EQ(db().QueryInt64("SELECT count(*) FROM webhook_inbox").value(), 1);
}

// Migration 9 rebuilds the table (a new CHECK constraint): rows of every state survive it,
// pending ones with no attempts counted.
TEST(InboxMigrationTest, RowsWrittenBeforeVersion9SurviveTheUpgrade) {
  testing::TempDir dir;
  {
    OpenOptions options{.path = dir / "state.db"};
    options.migrations.resize(8);
    auto store = OpenSqlite(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    InboxStore inbox((*store)->db());
    ASSERT_TRUE(inbox.Append({Item("w-done", 10), Item("w-new", 20)}, 20).ok());
    ASSERT_TRUE((*store)
                    ->db()
                    .Exec("UPDATE webhook_inbox SET state = 'done', note = 'ContactUpdate', "
                          "processed_at = 30 WHERE webhook_id = 'w-done'")
                    .ok());
  }
  auto store = OpenSqlite({.path = dir / "state.db"});
  ASSERT_TRUE(store.ok()) << store.error().message;
  InboxStore inbox((*store)->db());
  auto pending = inbox.Pending(10, 0, 0).value();
  ASSERT_EQ(Ids(pending), (std::vector<std::string>{"w-new"}));
  EXPECT_EQ(pending[0].attempts, 0);
  EXPECT_EQ((*store)
                ->db()
                .QueryText("SELECT state || ':' || note FROM webhook_inbox WHERE "
                           "webhook_id = 'w-done'")
                .value(),
            "done:ContactUpdate");
  EXPECT_EQ(inbox.Append({Item("w-done", 40)}, 40).value()[0], AppendResult::kDuplicate)
      << "the seen ids are untouched";
  ASSERT_TRUE(inbox.MarkFailed(pending[0].id, "x", 50).ok()) << "the new state is allowed";
}

TEST_F(InboxTest, PruneDeletesAtMostMaxRowsPerCall) {
  InboxStore inbox(db());
  std::vector<InboxItem> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(Item("w" + std::to_string(i), 0));
  ASSERT_TRUE(inbox.Append(batch, 0).ok());
  auto first = inbox.Prune(1h, 10'000'000, 10);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->seen, 10);
  EXPECT_EQ(inbox.Prune(1h, 10'000'000, 10).value().seen, 10);
  EXPECT_EQ(inbox.Prune(1h, 10'000'000, 10).value().seen, 5);
  EXPECT_EQ(inbox.Prune(1h, 10'000'000, 10).value().seen, 0);
}

}  // namespace
}  // namespace ghl::state
