// The mass-delete guard: its arithmetic (WeighDeletes, table-driven) and its state (held
// deletes and the window's log in SyncStore, on a real SQLite state file).
#include "sync/delete_guard.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "state/sqlite_state_store.h"
#include "sync/store.h"
#include "tests/support/temp_dir.h"

namespace ghl::sync {
namespace {

struct WeighCase {
  const char* name;
  double max_share;
  int64_t max_count;
  int64_t links_now;
  RecentDeletes recent;
  int64_t batch;
  bool hold;
  int64_t deletes;  // weighed
  int64_t linked;   // measured against
};

TEST(WeighDeletesTest, Table) {
  const std::vector<WeighCase> cases = {
      {"nothing to delete", 0.10, 100, 40, {}, 0, false, 0, 40},
      {"nothing to delete, window full", 0.10, 100, 40, {10, 10}, 0, false, 20, 50},
      {"one of forty", 0.10, 100, 40, {}, 1, false, 1, 40},
      {"at the share exactly", 0.10, 100, 40, {}, 4, false, 4, 40},
      {"past the share", 0.10, 100, 40, {}, 5, true, 5, 40},
      // Webhooks one by one: three made (tombstones: 37 links left), a fourth is still 10%.
      {"fourth single delete of forty", 0.10, 100, 37, {3, 0}, 1, false, 4, 40},
      {"fifth single delete of forty", 0.10, 100, 36, {4, 0}, 1, true, 5, 40},
      // Held deletes stay linked and count: the bulk keeps being held.
      {"after a hold", 0.10, 100, 36, {4, 1}, 1, true, 6, 40},
      {"one of five links", 0.10, 100, 5, {}, 1, true, 1, 5},
      {"one of five links, share 20%", 0.20, 100, 5, {}, 1, false, 1, 5},
      {"past the count", 1.00, 100, 10'000, {60, 0}, 41, true, 101, 10'060},
      {"at the count", 1.00, 100, 10'000, {60, 0}, 40, false, 100, 10'060},
      {"count 0 holds every delete", 1.00, 0, 10'000, {}, 1, true, 1, 10'000},
      {"pass and webhooks add up", 0.10, 100, 95, {5, 0}, 6, true, 11, 100},
      {"no links", 0.10, 100, 0, {}, 1, true, 1, 1},
  };
  for (const auto& c : cases) {
    mapping::DeleteGuard guard;
    guard.max_share = c.max_share;
    guard.max_count = c.max_count;
    const GuardWeighing w = WeighDeletes(guard, c.links_now, c.recent, c.batch);
    EXPECT_EQ(w.hold, c.hold) << c.name;
    EXPECT_EQ(w.deletes, c.deletes) << c.name;
    EXPECT_EQ(w.linked, c.linked) << c.name;
    EXPECT_DOUBLE_EQ(w.share, static_cast<double>(c.deletes) / static_cast<double>(c.linked))
        << c.name;
  }
}

class HeldDeleteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = state::OpenSqlite({.path = dir_ / "state.db"});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    state_ = std::move(opened).value();
    store_ = std::make_unique<SyncStore>(state_->db());
  }

  int64_t NewLink(const std::string& ghl_id, const std::string& ext_key) {
    Link link;
    link.sync = "contacts";
    link.location = "loc1";
    link.ghl_id = ghl_id;
    link.ext_key = ext_key;
    link.ghl_version = "2024-01-01T00:00:00.000Z";
    link.ext_version = "v1";
    link.updated_at = 1000;
    auto id = store_->SaveLink(link);
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }

  // A delete of the external row (the GHL record is gone), held at `at`.
  HeldDelete Held(int64_t link_id, int64_t at) {
    HeldDelete h;
    h.sync = "contacts";
    h.link_id = link_id;
    h.ghl_id = "g";
    h.ext_key = "e";
    h.deleted_side = Target::kGhl;
    h.source = "webhook";
    h.job = {.sync = "contacts",
             .link_id = link_id,
             .target = Target::kExternal,
             .op = "delete",
             .payload = R"({"canonical":{},"key":"e","expect":"v1","rule":"deleted in GHL"})",
             .idempotency_key = "k" + std::to_string(link_id),
             .lane = 0};
    h.version = "v1";
    h.held_at = at;
    return h;
  }

  testing::TempDir dir_;
  std::unique_ptr<state::SqliteStateStore> state_;
  std::unique_ptr<SyncStore> store_;
};

TEST_F(HeldDeleteStoreTest, HeldOncePerLinkListedAndCountedInTheWindow) {
  const int64_t a = NewLink("g1", "e1");
  const int64_t b = NewLink("g2", "e2");
  EXPECT_TRUE(store_->HoldDelete(Held(a, 5'000)).value());
  EXPECT_FALSE(store_->HoldDelete(Held(a, 6'000)).value());  // the first one stays
  EXPECT_TRUE(store_->HoldDelete(Held(b, 9'000)).value());
  ASSERT_TRUE(store_->RecordDeletesMade("contacts", 3, 4'000).ok());
  ASSERT_TRUE(store_->RecordDeletesMade("contacts", 2, 8'000).ok());
  ASSERT_TRUE(store_->RecordDeletesMade("other", 50, 8'000).ok());

  EXPECT_EQ(store_->HeldDeleteCount("contacts").value(), 2);
  EXPECT_EQ(store_->HeldDeleteCount("other").value(), 0);
  auto held = store_->HeldDeletes("", 10).value();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].link_id, a);
  EXPECT_EQ(held[0].held_at, 5'000);
  EXPECT_EQ(held[0].deleted_side, Target::kGhl);
  EXPECT_EQ(held[0].job.target, Target::kExternal);
  EXPECT_EQ(held[0].job.op, "delete");
  EXPECT_EQ(held[0].source, "webhook");

  auto all = store_->DeletesSince("contacts", 0).value();
  EXPECT_EQ(all.made, 5);
  EXPECT_EQ(all.held, 2);
  auto late = store_->DeletesSince("contacts", 6'000).value();
  EXPECT_EQ(late.made, 2);
  EXPECT_EQ(late.held, 1);
}

TEST_F(HeldDeleteStoreTest, ReleaseEnqueuesTheJobAndTombstonesTheLink) {
  const int64_t a = NewLink("g1", "e1");
  ASSERT_TRUE(store_->HoldDelete(Held(a, 5'000)).ok());
  const int64_t id = store_->HeldDeleteOfLink(a).value()->id;
  EXPECT_EQ(store_->ReleaseHeldDelete(id, 7'000).value(), SyncStore::Released::kQueued);
  auto job = store_->PendingJob(a, Target::kExternal).value();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->op, "delete");
  EXPECT_EQ(job->idempotency_key, "k" + std::to_string(a));
  EXPECT_EQ(job->next_attempt_at, 7'000);
  EXPECT_TRUE(store_->LinkById(a).value()->deleted);
  EXPECT_EQ(store_->HeldDeleteCount().value(), 0);
  EXPECT_EQ(store_->ReleaseHeldDelete(id, 7'000).value(), SyncStore::Released::kNotFound);
}

TEST_F(HeldDeleteStoreTest, ARecordChangedSinceIsKeptOnReleaseAndDropDeletesNothing) {
  const int64_t a = NewLink("g1", "e1");
  const int64_t b = NewLink("g2", "e2");
  ASSERT_TRUE(store_->HoldDelete(Held(a, 5'000)).ok());
  ASSERT_TRUE(store_->HoldDelete(Held(b, 5'000)).ok());
  ASSERT_TRUE(store_->MarkHeldChanged(a).ok());
  EXPECT_TRUE(store_->HeldDeleteOfLink(a).value()->changed);
  EXPECT_EQ(store_->ReleaseHeldDelete(store_->HeldDeleteOfLink(a).value()->id, 7'000).value(),
            SyncStore::Released::kKept);
  EXPECT_FALSE(store_->PendingJob(a, Target::kExternal).value().has_value());
  EXPECT_TRUE(store_->LinkById(a).value()->deleted);  // unlinked, both records kept

  EXPECT_TRUE(store_->DropHeldDelete(store_->HeldDeleteOfLink(b).value()->id, 7'000).value());
  EXPECT_FALSE(store_->PendingJob(b, Target::kExternal).value().has_value());
  EXPECT_TRUE(store_->LinkById(b).value()->deleted);
  EXPECT_EQ(store_->OutboxDepth().value(), 0);
  EXPECT_EQ(store_->HeldDeleteCount().value(), 0);
}

TEST_F(HeldDeleteStoreTest, ForgottenWhenTheRecordIsBackAndGoneWhenTheLinkIs) {
  const int64_t a = NewLink("g1", "e1");
  const int64_t b = NewLink("g2", "e2");
  ASSERT_TRUE(store_->HoldDelete(Held(a, 5'000)).ok());
  ASSERT_TRUE(store_->HoldDelete(Held(b, 5'000)).ok());
  EXPECT_TRUE(store_->ForgetHeldDelete(a).value());
  EXPECT_FALSE(store_->ForgetHeldDelete(a).value());
  EXPECT_FALSE(store_->LinkById(a).value()->deleted);  // still linked, still synced

  Link link = *store_->LinkById(b).value();
  link.deleted = true;
  ASSERT_TRUE(store_->SaveLink(link).ok());
  EXPECT_EQ(store_->ReleaseHeldDelete(store_->HeldDeleteOfLink(b).value()->id, 7'000).value(),
            SyncStore::Released::kGone);
  EXPECT_EQ(store_->OutboxDepth().value(), 0);
}

}  // namespace
}  // namespace ghl::sync
