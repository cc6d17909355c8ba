// SyncStore on a real SQLite state file: links, the outbox with coalescing and idempotency
// keys, the dead-letter queue, cursors, conflicts, and one transaction around all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "state/sqlite_state_store.h"
#include "sync/store.h"
#include "tests/support/temp_dir.h"

namespace ghl::sync {
namespace {

using mapping::Fields;
using mapping::List;
using mapping::Value;

class SyncStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    sync_.reset();
    state_.reset();
    auto opened = state::OpenSqlite({.path = dir_ / "state.db"});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    state_ = std::move(opened).value();
    sync_ = std::make_unique<SyncStore>(state_->db());
  }

  static Link NewLink(std::string sync, std::optional<std::string> ghl_id,
                      std::optional<std::string> ext_key) {
    Link link;
    link.sync = std::move(sync);
    link.location = "loc1";
    link.ghl_id = std::move(ghl_id);
    link.ext_key = std::move(ext_key);
    link.updated_at = 1000;
    return link;
  }

  int64_t MustSave(const Link& link) {
    Result<int64_t> id = sync_->SaveLink(link);
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }

  static Job NewJob(int64_t link_id, Target target, std::string key, int64_t due) {
    return {.sync = "contacts",
            .link_id = link_id,
            .target = target,
            .op = "upsert",
            .payload = R"({"email":"a@x.io"})",
            .idempotency_key = std::move(key),
            .lane = 1,
            .next_attempt_at = due,
            .created_at = 10};
  }

  int64_t MustEnqueue(const Job& job) {
    Result<int64_t> id = sync_->Enqueue(job);
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }

  Job MustPending(int64_t link_id, Target target) {
    auto job = sync_->PendingJob(link_id, target);
    EXPECT_TRUE(job.ok() && job->has_value());
    return job.ok() && job->has_value() ? **job : Job{};
  }

  std::vector<int64_t> DueIds(int64_t now, int limit, const std::string& sync = "") {
    std::vector<int64_t> ids;
    const std::vector<Job> jobs = sync_->DueJobs(sync, now, limit).value();
    for (const Job& job : jobs) ids.push_back(job.id);
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<state::SqliteStateStore> state_;
  std::unique_ptr<SyncStore> sync_;
};

TEST_F(SyncStoreTest, TargetNames) {
  EXPECT_STREQ(ToString(Target::kGhl), "ghl");
  EXPECT_STREQ(ToString(Target::kExternal), "external");
}

TEST_F(SyncStoreTest, LinkIsSavedUpdatedAndFoundByEitherId) {
  Link link = NewLink("contacts", "g1", std::nullopt);
  link.base = {{"email", Value{std::string("a@x.io")}},
               {"score", Value{12.5}},
               {"vip", Value{true}},
               {"tags", Value{List{"b", "a"}}},
               {"phone", Value{}}};
  link.ghl_version = "2024-10-01T00:00:00.000Z";
  link.id = MustSave(link);
  ASSERT_GT(link.id, 0);

  auto by_ghl = sync_->LinkByGhlId("contacts", "g1").value();
  ASSERT_TRUE(by_ghl.has_value());
  EXPECT_EQ(by_ghl->id, link.id);
  EXPECT_EQ(by_ghl->location, "loc1");
  EXPECT_EQ(by_ghl->base, link.base) << "every value type survives the JSON column";
  EXPECT_EQ(by_ghl->ghl_version, link.ghl_version);
  EXPECT_FALSE(by_ghl->ext_key.has_value());
  EXPECT_FALSE(sync_->LinkByExtKey("contacts", "e1").value().has_value());

  link.ext_key = "e1";
  link.ext_version = "hash-1";
  link.base["email"] = Value{std::string("b@x.io")};
  link.updated_at = 2000;
  EXPECT_EQ(MustSave(link), link.id) << "an update keeps the id";

  auto by_ext = sync_->LinkByExtKey("contacts", "e1").value();
  ASSERT_TRUE(by_ext.has_value());
  EXPECT_EQ(by_ext->id, link.id);
  EXPECT_EQ(by_ext->ghl_id, "g1");
  EXPECT_EQ(by_ext->ext_version, "hash-1");
  EXPECT_EQ(by_ext->base.at("email"), Value{std::string("b@x.io")});
  EXPECT_EQ(by_ext->updated_at, 2000);
  EXPECT_EQ(sync_->LinkById(link.id).value()->ext_key, "e1");

  EXPECT_FALSE(sync_->LinkByGhlId("other-sync", "g1").value().has_value()) << "per sync";
  EXPECT_FALSE(sync_->LinkById(link.id + 100).value().has_value());
}

TEST_F(SyncStoreTest, LinkingAnIdTwiceIsAnError) {
  MustSave(NewLink("contacts", "g1", "e1"));
  auto same_ghl = sync_->SaveLink(NewLink("contacts", "g1", "e2"));
  ASSERT_FALSE(same_ghl.ok());
  EXPECT_NE(same_ghl.error().message.find("sync contacts (GHL id g1, external key e2)"),
            std::string::npos)
      << same_ghl.error().message;
  EXPECT_NE(same_ghl.error().message.find("UNIQUE"), std::string::npos);
  EXPECT_FALSE(sync_->SaveLink(NewLink("contacts", "g2", "e1")).ok());

  EXPECT_TRUE(sync_->SaveLink(NewLink("deals", "g1", "e1")).ok()) << "another sync may";
  EXPECT_TRUE(sync_->SaveLink(NewLink("contacts", std::nullopt, "e3")).ok());
  EXPECT_TRUE(sync_->SaveLink(NewLink("contacts", std::nullopt, "e4")).ok())
      << "unset ids do not clash";

  Link ghost = NewLink("contacts", "g9", "e9");
  ghost.id = 999;
  auto missing = sync_->SaveLink(ghost);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "cannot update link 999: there is no such link");
  EXPECT_EQ(sync_->CountLinks("contacts").value(), 3);
}

TEST_F(SyncStoreTest, LinkedExtKeysPageByIdAndSkipTombstonesAndGhlOnlyLinks) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    Link link = NewLink("contacts", "g" + std::to_string(i), "e" + std::to_string(i));
    link.ext_version = "v" + std::to_string(i);
    ids.push_back(MustSave(link));
  }
  MustSave(NewLink("contacts", "g9", std::nullopt));  // not created outside yet
  MustSave(NewLink("deals", "g1", "e1"));
  Link dead = sync_->LinkById(ids[2]).value().value();
  dead.deleted = true;
  MustSave(dead);

  auto page1 = sync_->LinkedExtKeys("contacts", 0, 2).value();
  ASSERT_EQ(page1.size(), 2u);
  EXPECT_EQ(page1[0].id, ids[0]);
  EXPECT_EQ(page1[0].ext_key, "e0");
  EXPECT_EQ(page1[0].ext_version, "v0");
  EXPECT_EQ(page1[1].id, ids[1]);
  auto page2 = sync_->LinkedExtKeys("contacts", page1.back().id, 2).value();
  ASSERT_EQ(page2.size(), 2u);
  EXPECT_EQ(page2[0].id, ids[3]) << "the deleted link is skipped";
  EXPECT_EQ(page2[1].id, ids[4]);
  EXPECT_TRUE(sync_->LinkedExtKeys("contacts", page2.back().id, 2).value().empty())
      << "a link without an external key is not listed";
  EXPECT_EQ(sync_->CountLinks("contacts").value(), 5);
  EXPECT_EQ(sync_->CountLinks("deals").value(), 1);
}

TEST_F(SyncStoreTest, ExtSidesFindTheLinksOfManyKeysInOneQuery) {
  for (const std::string key : {"a", "A", "k'; DROP TABLE links;--", "ü\"x", "gone"}) {
    Link link = NewLink("contacts", "g-" + key, key);
    link.ext_version = "v-" + key;
    link.deleted = key == "gone";
    MustSave(link);
  }
  MustSave(NewLink("deals", "g-a", "a"));
  auto sides =
      sync_->ExtSides("contacts", {"A", "k'; DROP TABLE links;--", "ü\"x", "gone", "missing"})
          .value();
  std::map<std::string, std::string> found;
  for (const auto& side : sides) {
    EXPECT_EQ(sync_->LinkById(side.id).value()->ext_key, side.ext_key);
    found[side.ext_key] = side.ext_version;
  }
  const std::map<std::string, std::string> want = {
      {"A", "v-A"},
      {"k'; DROP TABLE links;--", "v-k'; DROP TABLE links;--"},
      {"ü\"x", "v-ü\"x"},
      {"gone", "v-gone"}};
  EXPECT_EQ(found, want) << "keys match exactly (not \"a\"), deleted links included";
  EXPECT_TRUE(sync_->ExtSides("contacts", {}).value().empty());
}

TEST_F(SyncStoreTest, LinksToRereadArePairedLiveLinksWithBothVersionsCleared) {
  auto with = [](Link link, std::string ghl_version, std::string ext_version) {
    link.ghl_version = std::move(ghl_version);
    link.ext_version = std::move(ext_version);
    return link;
  };
  const int64_t reread = MustSave(with(NewLink("contacts", "g1", "e1"), "", ""));
  MustSave(with(NewLink("contacts", "g2", "e2"), "2026-01-01T00:00:00.000Z", ""));
  MustSave(with(NewLink("contacts", "g3", "e3"), "", "v3"));
  MustSave(with(NewLink("contacts", "g4", std::nullopt), "", ""));  // a create on its way
  Link gone = with(NewLink("contacts", "g5", "e5"), "", "");
  gone.deleted = true;
  MustSave(gone);
  MustSave(with(NewLink("deals", "g1", "e1"), "", ""));
  const int64_t second = MustSave(with(NewLink("contacts", "g6", "e6"), "", ""));

  auto links = sync_->LinksToReread("contacts", 10).value();
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].id, reread);
  EXPECT_EQ(links[1].id, second);
  ASSERT_EQ(sync_->LinksToReread("contacts", 1).value().size(), 1u);
}

TEST_F(SyncStoreTest, MarkAttemptCountsOnlyTheJobWithThatKey) {
  const int64_t id = MustEnqueue(NewJob(1, Target::kGhl, "k1", 100));
  ASSERT_TRUE(sync_->MarkAttempt(id, "k1").ok());
  EXPECT_EQ(MustPending(1, Target::kGhl).attempts, 1);
  ASSERT_TRUE(sync_->MarkAttempt(id, "k1").ok());
  EXPECT_EQ(MustPending(1, Target::kGhl).attempts, 2);
  MustEnqueue(NewJob(1, Target::kGhl, "k2", 100));
  // A new decision for the same record keeps the count: an earlier attempt may have been
  // made (its answer lost), so the new one is read back before it is written too.
  EXPECT_EQ(MustPending(1, Target::kGhl).attempts, 2);
  ASSERT_TRUE(sync_->MarkAttempt(id, "k1").ok()) << "a replaced job: nothing to count";
  EXPECT_EQ(MustPending(1, Target::kGhl).attempts, 2);
}

// A pass saves a link only as it read it: a webhook's change or a write's result saved in
// between (while the pass yielded) is not written over.
TEST_F(SyncStoreTest, SaveLinkIfUnchangedRefusesALinkSavedSinceItWasRead) {
  const int64_t id = MustSave(NewLink("contacts", "g1", "e1"));
  auto read = sync_->LinkById(id);
  ASSERT_TRUE(read.ok() && read->has_value());
  Link pass = **read;  // what the pass read
  Link webhook = **read;
  webhook.base["lastName"] = Value{std::string("FromWebhook")};
  MustSave(webhook);
  pass.base["lastName"] = Value{std::string("FromPass")};
  auto saved = sync_->SaveLinkIfUnchanged(pass);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  EXPECT_FALSE(saved->has_value()) << "saved over the webhook's change";
  auto now = sync_->LinkById(id);
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ(mapping::ToJson((**now).base), R"({"lastName":"FromWebhook"})");
  // Read again, it saves.
  Link again = **now;
  again.base["firstName"] = Value{std::string("Ann")};
  saved = sync_->SaveLinkIfUnchanged(again);
  ASSERT_TRUE(saved.ok() && saved->has_value());
  EXPECT_EQ(**saved, id);
  // ReadLinkAgain clears both versions (LinksToReread) and counts as a save.
  ASSERT_TRUE(sync_->ReadLinkAgain(id).ok());
  EXPECT_FALSE(sync_->SaveLinkIfUnchanged(again)->has_value());
  auto reread = sync_->LinksToReread("contacts", 10);
  ASSERT_TRUE(reread.ok());
  ASSERT_EQ(reread->size(), 1u);
  EXPECT_EQ(reread->front().id, id);
}

TEST_F(SyncStoreTest, DueJobsOfTheRealTimeLaneAlone) {
  const int64_t link = MustSave(NewLink("contacts", "g1", "e1"));
  const int64_t other = MustSave(NewLink("contacts", "g2", "e2"));
  Job realtime = NewJob(link, Target::kExternal, "k1", 100);
  realtime.lane = 0;
  Job reconcile = NewJob(other, Target::kExternal, "k2", 50);
  ASSERT_TRUE(sync_->Enqueue(realtime).ok());
  ASSERT_TRUE(sync_->Enqueue(reconcile).ok());
  auto all = sync_->DueJobs("contacts", 1000, 10);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto urgent = sync_->DueJobs("contacts", 1000, 10, 0);
  ASSERT_TRUE(urgent.ok());
  ASSERT_EQ(urgent->size(), 1u);
  EXPECT_EQ(urgent->front().idempotency_key, "k1");
}

// A create that only GHL's lagging search can find again is not due before its read-back
// can see it (RunnerOptions::create_settle_ms), even after a crash with the call in flight.
TEST_F(SyncStoreTest, MarkAttemptCanHoldTheJobUntilATime) {
  const int64_t id = MustEnqueue(NewJob(1, Target::kGhl, "k1", 100));
  ASSERT_TRUE(sync_->MarkAttempt(id, "k1", 5000).ok());
  EXPECT_EQ(MustPending(1, Target::kGhl).next_attempt_at, 5000);
  EXPECT_TRUE(sync_->DueJobs("contacts", 4999, 10)->empty());
  EXPECT_EQ(sync_->DueJobs("contacts", 5000, 10)->size(), 1u);
  ASSERT_TRUE(sync_->MarkAttempt(id, "k1", 0).ok()) << "0 leaves the due time";
  EXPECT_EQ(MustPending(1, Target::kGhl).next_attempt_at, 5000);
}

TEST_F(SyncStoreTest, UnreadableBaseSnapshotIsReported) {
  const int64_t id = MustSave(NewLink("contacts", "g1", std::nullopt));
  ASSERT_TRUE(state_->db().Exec("UPDATE links SET base_json = 'not json'"));
  auto link = sync_->LinkById(id);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error().message,
            "link " + std::to_string(id) +
                " of sync contacts has an unreadable base snapshot: " + "not json");
}

TEST_F(SyncStoreTest, EnqueueCoalescesOnLinkAndTarget) {
  const int64_t first = MustEnqueue(NewJob(7, Target::kGhl, "k1", 500));
  ASSERT_TRUE(sync_->Reschedule(first, "k1", 3, 900, "HTTP 503").ok());

  Job newer = NewJob(7, Target::kGhl, "k2", 100);
  newer.op = "delete";
  newer.payload = "{}";
  newer.lane = 0;
  newer.created_at = 99;
  EXPECT_EQ(MustEnqueue(newer), first) << "the pending job is replaced, not duplicated";

  const Job pending = MustPending(7, Target::kGhl);
  EXPECT_EQ(pending.op, "delete");
  EXPECT_EQ(pending.payload, "{}");
  EXPECT_EQ(pending.idempotency_key, "k2");
  EXPECT_EQ(pending.lane, 0);
  EXPECT_EQ(pending.attempts, 3) << "attempts kept: an earlier one may have been made";
  EXPECT_EQ(pending.last_error, "");
  EXPECT_EQ(pending.next_attempt_at, 100);
  EXPECT_EQ(pending.created_at, 10) << "the change has waited since the first job";

  const int64_t other_side = MustEnqueue(NewJob(7, Target::kExternal, "k3", 100));
  EXPECT_NE(other_side, first);
  EXPECT_EQ(MustPending(7, Target::kExternal).target, Target::kExternal);
  EXPECT_EQ(sync_->OutboxDepth().value(), 2);
  EXPECT_EQ(sync_->OutboxDepth("contacts").value(), 2);
  EXPECT_EQ(sync_->OutboxDepth("deals").value(), 0);
  EXPECT_FALSE(sync_->PendingJob(8, Target::kGhl).value().has_value());
}

TEST_F(SyncStoreTest, DueJobsComeInDueOrderPerSyncUpToTheLimit) {
  EXPECT_FALSE(sync_->NextDue().value().has_value());
  const int64_t late = MustEnqueue(NewJob(1, Target::kGhl, "a", 300));
  const int64_t early1 = MustEnqueue(NewJob(2, Target::kGhl, "b", 100));
  const int64_t mid = MustEnqueue(NewJob(3, Target::kGhl, "c", 200));
  const int64_t early2 = MustEnqueue(NewJob(4, Target::kGhl, "d", 100));

  EXPECT_EQ(sync_->NextDue().value(), 100);
  EXPECT_EQ(DueIds(250, 10), (std::vector<int64_t>{early1, early2, mid}));
  EXPECT_EQ(DueIds(250, 2), (std::vector<int64_t>{early1, early2}));
  EXPECT_EQ(DueIds(99, 10), std::vector<int64_t>{});
  EXPECT_EQ(DueIds(300, 10), (std::vector<int64_t>{early1, early2, mid, late}));

  Job deal = NewJob(9, Target::kGhl, "e", 50);
  deal.sync = "deals";
  const int64_t other_sync = MustEnqueue(deal);
  EXPECT_EQ(DueIds(150, 10, "deals"), std::vector<int64_t>{other_sync});
  EXPECT_EQ(DueIds(150, 10, "contacts"), (std::vector<int64_t>{early1, early2}));
  EXPECT_EQ(DueIds(150, 10), (std::vector<int64_t>{other_sync, early1, early2}));
  EXPECT_EQ(sync_->NextDue().value(), 50);
  ASSERT_TRUE(sync_->Complete(other_sync, "e").value());

  ASSERT_TRUE(sync_->Reschedule(early1, "b", 1, 400, "HTTP 429").ok());
  EXPECT_EQ(DueIds(300, 10), (std::vector<int64_t>{early2, mid, late}));
  const Job retried = MustPending(2, Target::kGhl);
  EXPECT_EQ(retried.attempts, 1);
  EXPECT_EQ(retried.next_attempt_at, 400);
  EXPECT_EQ(retried.last_error, "HTTP 429");
}

TEST_F(SyncStoreTest, CompleteWithAStaleKeyKeepsTheReplacedJob) {
  const int64_t id = MustEnqueue(NewJob(1, Target::kGhl, "k1", 100));
  MustEnqueue(NewJob(1, Target::kGhl, "k2", 100));  // a new decision while k1 is in flight
  EXPECT_FALSE(sync_->Complete(id, "k1").value());
  EXPECT_EQ(MustPending(1, Target::kGhl).idempotency_key, "k2");
  ASSERT_TRUE(sync_->Reschedule(id, "k1", 5, 9999, "HTTP 500").ok());
  EXPECT_EQ(MustPending(1, Target::kGhl).attempts, 0) << "a stale retry left the new job alone";
  EXPECT_TRUE(sync_->Complete(id, "k2").value());
  EXPECT_EQ(sync_->OutboxDepth().value(), 0);
  EXPECT_FALSE(sync_->Complete(id, "k2").value()) << "already gone";
}

TEST_F(SyncStoreTest, DeadLetterReplayAndDropRoundTrip) {
  Job job = NewJob(5, Target::kExternal, "k1", 100);
  job.id = MustEnqueue(job);
  job.attempts = 4;
  ASSERT_TRUE(
      sync_->DeadLetterJob(job, "HTTP 422", R"({"message":"bad email"})", "trace-1", 777).ok());
  EXPECT_EQ(sync_->OutboxDepth().value(), 0);
  EXPECT_EQ(sync_->DeadLetterCount().value(), 1);
  EXPECT_EQ(sync_->DeadLetterCount("contacts").value(), 1);
  EXPECT_EQ(sync_->DeadLetterCount("deals").value(), 0);
  EXPECT_TRUE(sync_->DeadLetters("deals", 10).value().empty());

  auto listed = sync_->DeadLetters("", 10).value();
  ASSERT_EQ(listed.size(), 1u);
  const DeadLetter& dead = listed[0];
  EXPECT_EQ(dead.sync, "contacts");
  EXPECT_EQ(dead.link_id, 5);
  EXPECT_EQ(dead.target, Target::kExternal);
  EXPECT_EQ(dead.op, "upsert");
  EXPECT_EQ(dead.payload, job.payload);
  EXPECT_EQ(dead.idempotency_key, "k1");
  EXPECT_EQ(dead.attempts, 4);
  EXPECT_EQ(dead.error, "HTTP 422");
  EXPECT_EQ(dead.response_body, R"({"message":"bad email"})");
  EXPECT_EQ(dead.trace_id, "trace-1");
  EXPECT_EQ(dead.created_at, 10);
  EXPECT_EQ(dead.failed_at, 777);
  EXPECT_EQ(sync_->DeadLetterById(dead.id).value()->error, "HTTP 422");

  EXPECT_EQ(sync_->Replay(dead.id, 900).value(), SyncStore::Replayed::kQueued);
  EXPECT_EQ(sync_->Replay(dead.id, 900).value(), SyncStore::Replayed::kNotFound) << "replayed once";
  EXPECT_EQ(sync_->DeadLetterCount().value(), 0);
  const Job replayed = MustPending(5, Target::kExternal);
  EXPECT_EQ(replayed.payload, job.payload);
  EXPECT_EQ(replayed.idempotency_key, "k1");
  EXPECT_EQ(replayed.lane, 1) << "back to its lane";
  EXPECT_EQ(replayed.attempts, 0);
  EXPECT_EQ(replayed.next_attempt_at, 900);
  EXPECT_EQ(DueIds(900, 10), std::vector<int64_t>{replayed.id});

  ASSERT_TRUE(sync_->DeadLetterJob(replayed, "HTTP 404", "", "", 950).ok());
  const int64_t again = sync_->DeadLetters("contacts", 10).value().at(0).id;
  EXPECT_TRUE(sync_->Drop(again).value());
  EXPECT_FALSE(sync_->Drop(again).value());
  EXPECT_EQ(sync_->DeadLetterCount().value(), 0);
  EXPECT_EQ(sync_->OutboxDepth().value(), 0);
}

TEST_F(SyncStoreTest, DeadLetteringAReplacedJobKeepsTheNewerDecision) {
  Job job = NewJob(5, Target::kGhl, "k1", 100);
  job.id = MustEnqueue(job);
  MustEnqueue(NewJob(5, Target::kGhl, "k2", 100));
  ASSERT_TRUE(sync_->DeadLetterJob(job, "HTTP 400", "", "", 500).ok());
  EXPECT_EQ(sync_->DeadLetterCount().value(), 1);
  EXPECT_EQ(sync_->DeadLetters("", 1).value().at(0).idempotency_key, "k1");
  EXPECT_EQ(MustPending(5, Target::kGhl).idempotency_key, "k2");

  // Replaying does not put the older decision over the newer one: it is only removed.
  const int64_t dead = sync_->DeadLetters("", 1).value().at(0).id;
  EXPECT_EQ(sync_->Replay(dead, 600).value(), SyncStore::Replayed::kSuperseded);
  EXPECT_EQ(sync_->OutboxDepth().value(), 1);
  EXPECT_EQ(MustPending(5, Target::kGhl).idempotency_key, "k2");
  EXPECT_EQ(sync_->DeadLetterCount().value(), 0);
  EXPECT_EQ(sync_->Replay(dead, 600).value(), SyncStore::Replayed::kNotFound);
}

TEST_F(SyncStoreTest, DeadLettersListInOrderUpToTheLimit) {
  for (int link = 1; link <= 3; ++link) {
    Job job = NewJob(link, Target::kGhl, "k", 100);
    job.id = MustEnqueue(job);
    ASSERT_TRUE(sync_->DeadLetterJob(job, "e" + std::to_string(link), "", "", 500).ok());
  }
  auto two = sync_->DeadLetters("contacts", 2).value();
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].error, "e1");
  EXPECT_EQ(two[1].error, "e2");
}

TEST_F(SyncStoreTest, CursorsArePerSyncAndSource) {
  EXPECT_FALSE(sync_->Cursor("contacts", "ghl_poll").value().has_value());
  ASSERT_TRUE(sync_->SetCursor("contacts", "ghl_poll", "1700000000000", 1).ok());
  ASSERT_TRUE(sync_->SetCursor("contacts", "csv_scan", "hash-a", 1).ok());
  ASSERT_TRUE(sync_->SetCursor("contacts", "ghl_poll", "1700000005000", 2).ok());
  EXPECT_EQ(sync_->Cursor("contacts", "ghl_poll").value(), "1700000005000");
  EXPECT_EQ(sync_->Cursor("contacts", "csv_scan").value(), "hash-a");
  EXPECT_FALSE(sync_->Cursor("deals", "ghl_poll").value().has_value());
}

TEST_F(SyncStoreTest, ConflictsAreListedNewestFirst) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(sync_
                    ->RecordConflict({.sync = i == 1 ? "deals" : "contacts",
                                      .link_id = 40 + i,
                                      .field = "email",
                                      .base_json = R"("a@x.io")",
                                      .ghl_json = R"("g@x.io")",
                                      .ext_json = "null",
                                      .rule = "newest",
                                      .winner = "ghl",
                                      .at = 100 + i})
                    .ok());
  }
  auto contacts = sync_->Conflicts("contacts", 10).value();
  ASSERT_EQ(contacts.size(), 2u);
  EXPECT_EQ(contacts[0].link_id, 42);
  EXPECT_EQ(contacts[1].link_id, 40);
  const ConflictRecord& c = contacts[1];
  EXPECT_EQ(c.sync, "contacts");
  EXPECT_EQ(c.field, "email");
  EXPECT_EQ(c.base_json, R"("a@x.io")");
  EXPECT_EQ(c.ghl_json, R"("g@x.io")");
  EXPECT_EQ(c.ext_json, "null");
  EXPECT_EQ(c.rule, "newest");
  EXPECT_EQ(c.winner, "ghl");
  EXPECT_EQ(c.at, 100);
  EXPECT_EQ(sync_->Conflicts("", 10).value().size(), 3u);
  EXPECT_EQ(sync_->Conflicts("", 1).value().at(0).sync, "contacts");
}

// One change: link + base, outbox job, cursor. All or nothing, and durable once committed.
Result<void> CommitChange(SyncStore& store, const std::string& ghl_id, const std::string& cursor) {
  Link link;
  link.sync = "contacts";
  link.location = "loc1";
  link.ghl_id = ghl_id;
  link.base = {{"email", Value{std::string("a@x.io")}}};
  Result<int64_t> id = store.SaveLink(link);
  if (!id) return id.error();
  Result<int64_t> job = store.Enqueue({.sync = "contacts",
                                       .link_id = *id,
                                       .target = Target::kExternal,
                                       .op = "upsert",
                                       .payload = "{}",
                                       .idempotency_key = "k-" + ghl_id});
  if (!job) return job.error();
  return store.SetCursor("contacts", "ghl_poll", cursor, 0);
}

TEST_F(SyncStoreTest, AuditIsListedNewestFirstFilteredBySyncAndRecordAndPruned) {
  auto entry = [](std::string sync, int64_t link_id, int64_t at, std::string ghl_id,
                  std::string ext_key) {
    AuditEntry e;
    e.sync = std::move(sync);
    e.link_id = link_id;
    e.at = at;
    e.direction = "to_ghl";
    e.action = "update";
    e.ghl_id = std::move(ghl_id);
    e.ext_key = std::move(ext_key);
    e.before_json = R"({"firstName":"Carol"})";
    e.after_json = R"({"firstName":"Caroline"})";
    e.rule = "changed outside";
    e.trace_id = "trace-" + std::to_string(at);
    return e;
  };
  ASSERT_TRUE(sync_->AddAudit(entry("contacts", 1, 1000, "g1", "c-1")).ok());
  ASSERT_TRUE(sync_->AddAudit(entry("contacts", 2, 3000, "g2", "c-2")).ok());
  ASSERT_TRUE(sync_->AddAudit(entry("contacts", 1, 2000, "g1", "c-1")).ok());
  ASSERT_TRUE(sync_->AddAudit(entry("opps", 7, 4000, "g1", "o-1")).ok());
  AuditEntry bad = entry("contacts", 3, 5000, "g3", "c-3");
  bad.direction = "sideways";
  EXPECT_FALSE(sync_->AddAudit(bad).ok()) << "direction is to_ghl or to_external";

  auto all = sync_->Audit("contacts", "", 10);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].at, 3000);
  EXPECT_EQ((*all)[1].at, 2000);
  EXPECT_EQ((*all)[2].at, 1000);
  const AuditEntry& e = (*all)[0];
  EXPECT_EQ(e.sync, "contacts");
  EXPECT_EQ(e.link_id, 2);
  EXPECT_EQ(e.direction, "to_ghl");
  EXPECT_EQ(e.action, "update");
  EXPECT_EQ(e.ghl_id, "g2");
  EXPECT_EQ(e.ext_key, "c-2");
  EXPECT_EQ(e.before_json, R"({"firstName":"Carol"})");
  EXPECT_EQ(e.after_json, R"({"firstName":"Caroline"})");
  EXPECT_EQ(e.rule, "changed outside");
  EXPECT_EQ(e.trace_id, "trace-3000");

  EXPECT_EQ(sync_->Audit("", "", 10)->size(), 4u) << "\"\" is every sync";
  EXPECT_EQ(sync_->Audit("contacts", "", 2)->size(), 2u) << "limit";
  auto by_ext = sync_->Audit("contacts", "c-1", 10);
  ASSERT_EQ(by_ext->size(), 2u);
  EXPECT_EQ((*by_ext)[0].at, 2000);
  EXPECT_EQ(sync_->Audit("contacts", "g2", 10)->size(), 1u) << "--record matches a GHL id";
  EXPECT_EQ(sync_->Audit("", "g1", 10)->size(), 3u);
  EXPECT_TRUE(sync_->Audit("contacts", "nobody", 10)->empty());

  // Older than 3500: three rows, deleted two per call at most, oldest first.
  auto pruned = sync_->PruneAudit(3500, 2);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(*pruned, 2);
  auto left = sync_->Audit("", "", 10);
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].at, 4000);
  EXPECT_EQ((*left)[1].at, 3000);
  EXPECT_EQ(sync_->PruneAudit(3500, 2).value(), 1);
  EXPECT_EQ(sync_->PruneAudit(3500, 2).value(), 0);
  ASSERT_EQ(sync_->Audit("", "", 10)->size(), 1u);
  EXPECT_EQ(sync_->Audit("", "", 10)->front().at, 4000);

  // Kept across a reopen (a table of the state file).
  Reopen();
  EXPECT_EQ(sync_->Audit("opps", "", 10)->size(), 1u);
}

TEST_F(SyncStoreTest, AFailedTransactionRollsBackLinkOutboxAndCursorTogether) {
  ASSERT_TRUE(sync_->Transaction([&] { return CommitChange(*sync_, "g1", "c1"); }).ok());

  auto failed = sync_->Transaction([&]() -> Result<void> {
    if (auto done = CommitChange(*sync_, "g2", "c2"); !done) return done;
    return Error{"the connector rejected the batch"};
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "the connector rejected the batch");

  // A statement that fails inside the body (g1 linked twice) rolls back what came before it.
  auto clash = sync_->Transaction([&]() -> Result<void> {
    if (auto cursor = sync_->SetCursor("contacts", "ghl_poll", "c3", 0); !cursor) return cursor;
    return CommitChange(*sync_, "g1", "c3");
  });
  ASSERT_FALSE(clash.ok());

  Reopen();  // what is on disk
  EXPECT_EQ(sync_->CountLinks("contacts").value(), 1);
  EXPECT_TRUE(sync_->LinkByGhlId("contacts", "g1").value().has_value());
  EXPECT_FALSE(sync_->LinkByGhlId("contacts", "g2").value().has_value());
  EXPECT_EQ(sync_->OutboxDepth().value(), 1);
  EXPECT_EQ(sync_->DueJobs("contacts", 0, 10).value().at(0).idempotency_key, "k-g1");
  EXPECT_EQ(sync_->Cursor("contacts", "ghl_poll").value(), "c1");
}

}  // namespace
}  // namespace ghl::sync
