// The cases every connector passes (issue 7): each runs against every fixture enrolled
// with INSTANTIATE_TEST_SUITE_P(..., ConnectorConformance, ...) in this folder.
#include <map>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "tests/conformance/fixture.h"

namespace ghl::conformance {
namespace {

using connectors::Connector;
using connectors::Outcome;
using connectors::Row;
using connectors::WriteOp;
using connectors::WriteResult;
using mapping::Fields;
using mapping::Value;

Value Text(const std::string& s) { return Value(s); }

WriteOp Upsert(const std::string& key, Fields fields) {
  return {WriteOp::Kind::kUpsert, key, std::move(fields)};
}
WriteOp Delete(const std::string& key) { return {WriteOp::Kind::kDelete, key, {}}; }

// Writes one op and expects it to succeed.
WriteResult WriteOk(Connector& c, const WriteOp& op) {
  auto results = c.Write({op});
  EXPECT_EQ(results.size(), 1u);
  if (results.empty()) return {};
  EXPECT_EQ(results[0].outcome, Outcome::kOk) << results[0].message;
  EXPECT_FALSE(results[0].key.empty());
  return results[0];
}

Row GetRow(Connector& c, const std::string& key) {
  auto row = c.Get(key);
  EXPECT_TRUE(row.ok()) << (row.ok() ? "" : row.error().message);
  if (!row.ok() || !row->has_value()) {
    ADD_FAILURE() << "no row with key " << key;
    return {};
  }
  return **row;
}

struct FullScan {
  std::map<std::string, Row> rows;
  std::string cursor;  // the final cursor: the resume point
  bool complete = false;
  std::size_t pages = 0;
};

// Follows `cursor` page by page until done; expects no key twice in one scan.
FullScan ScanAll(Connector& c, const std::string& cursor, std::size_t limit) {
  FullScan out;
  std::string at = cursor;
  for (int guard = 0; guard < 10'000; ++guard) {
    auto page = c.Scan(at, limit);
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
    if (!page.ok()) return out;
    ++out.pages;
    EXPECT_LE(page->rows.size(), limit);
    EXPECT_TRUE(page->rejected.empty());
    for (auto& row : page->rows) {
      EXPECT_FALSE(row.key.empty());
      EXPECT_TRUE(out.rows.emplace(row.key, row).second) << "key seen twice: " << row.key;
    }
    out.cursor = page->cursor;
    out.complete = page->complete;
    if (page->done) return out;
    at = page->cursor;
  }
  ADD_FAILURE() << "scan never finished";
  return out;
}

void ExpectText(const Row& row, const std::string& column, const std::string& expected) {
  auto it = row.fields.find(column);
  ASSERT_NE(it, row.fields.end()) << "row " << row.key << " has no column " << column;
  const auto* text = std::get_if<std::string>(&it->second);
  ASSERT_NE(text, nullptr) << "column " << column << " is " << mapping::Display(it->second);
  EXPECT_EQ(*text, expected) << "column " << column << " of row " << row.key;
}

TEST_P(ConnectorConformance, FreshSourceIsHealthyAndEmpty) {
  auto health = connector_->Health();
  EXPECT_TRUE(health.ok()) << (health.ok() ? "" : health.error().message);
  EXPECT_FALSE(connector_->Describe().empty());
  const FullScan scan = ScanAll(*connector_, "", 100);
  EXPECT_TRUE(scan.rows.empty());
  // An incremental SQL scan is never `complete`, even from the start (see the fixture
  // hook): the engine must not take absence from it as a deletion.
  EXPECT_EQ(scan.complete, fixture_->ScanFromStartIsComplete());
}

TEST_P(ConnectorConformance, CreatedRowReadsBack) {
  const auto w = WriteOk(*connector_,
                         Upsert("c1", {{"name", Text("Ann")}, {"email", Text("ann@example.com")}}));
  EXPECT_EQ(w.key, "c1");
  EXPECT_FALSE(w.version.empty());
  const Row row = GetRow(*connector_, "c1");
  EXPECT_EQ(row.key, "c1");
  ExpectText(row, "name", "Ann");
  ExpectText(row, "email", "ann@example.com");
  EXPECT_FALSE(row.deleted);
  auto missing = connector_->Get("no-such-key");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(ConnectorConformance, CreateWithoutKeyAssignsOne) {
  const auto w = WriteOk(*connector_, Upsert("", {{"name", Text("Keyless")}}));
  ASSERT_FALSE(w.key.empty());
  const Row row = GetRow(*connector_, w.key);
  ExpectText(row, "name", "Keyless");
  EXPECT_EQ(row.version, w.version);
  const auto second = WriteOk(*connector_, Upsert("", {{"name", Text("Another")}}));
  EXPECT_NE(second.key, w.key);
}

TEST_P(ConnectorConformance, UpdatingOneFieldLeavesTheOthers) {
  WriteOk(*connector_, Upsert("u1", {{"name", Text("Bob")},
                                     {"email", Text("bob@example.com")},
                                     {"notes", Text("first")}}));
  WriteOk(*connector_, Upsert("u2", {{"name", Text("Neighbour")}}));
  const Row neighbour = GetRow(*connector_, "u2");
  const auto w = WriteOk(*connector_, Upsert("u1", {{"email", Text("robert@example.com")}}));
  const Row row = GetRow(*connector_, "u1");
  ExpectText(row, "name", "Bob");
  ExpectText(row, "email", "robert@example.com");
  ExpectText(row, "notes", "first");
  EXPECT_EQ(row.version, w.version);
  EXPECT_EQ(GetRow(*connector_, "u2").version, neighbour.version);
}

TEST_P(ConnectorConformance, DeletedRowIsGone) {
  WriteOk(*connector_, Upsert("d1", {{"name", Text("Doomed")}}));
  WriteOk(*connector_, Upsert("d2", {{"name", Text("Kept")}}));
  WriteOk(*connector_, Delete("d1"));
  auto gone = connector_->Get("d1");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  const FullScan scan = ScanAll(*connector_, "", 100);
  EXPECT_EQ(scan.rows.count("d1"), 0u);
  EXPECT_EQ(scan.rows.count("d2"), 1u);
  WriteOk(*connector_, Delete("d1"));  // deleting what is gone succeeds
}

TEST_P(ConnectorConformance, PagedScanReturnsEveryRowOnce) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 7; ++i) ops.push_back(Upsert("p" + std::to_string(i), {{"name", Text("n")}}));
  for (const auto& r : connector_->Write(ops)) ASSERT_EQ(r.outcome, Outcome::kOk) << r.message;
  const FullScan paged = ScanAll(*connector_, "", 3);
  EXPECT_EQ(paged.rows.size(), 7u);
  EXPECT_GE(paged.pages, 3u);
  EXPECT_EQ(paged.complete, fixture_->ScanFromStartIsComplete());
  const FullScan whole = ScanAll(*connector_, "", 1000);
  EXPECT_EQ(whole.rows.size(), 7u);
  for (const auto& [key, row] : whole.rows) EXPECT_EQ(paged.rows.at(key).version, row.version);
}

TEST_P(ConnectorConformance, UnchangedRowsKeepTheirVersions) {
  WriteOk(*connector_, Upsert("s1", {{"name", Text("Same")}}));
  WriteOk(*connector_, Upsert("s2", {{"name", Text("Also same")}}));
  const FullScan first = ScanAll(*connector_, "", 100);
  const FullScan again = ScanAll(*connector_, "", 100);
  ASSERT_EQ(again.rows.size(), 2u);
  for (const auto& [key, row] : again.rows) EXPECT_EQ(first.rows.at(key).version, row.version);
  // Resuming from the scan's cursor reports no change for unchanged rows.
  const FullScan resumed = ScanAll(*connector_, first.cursor, 100);
  for (const auto& [key, row] : resumed.rows) EXPECT_EQ(first.rows.at(key).version, row.version);
}

TEST_P(ConnectorConformance, OwnWritesReturnTheVersionTheNextScanReports) {
  const FullScan before = ScanAll(*connector_, "", 100);
  auto results = connector_->Write({Upsert("o1", {{"name", Text("One")}}),
                                    Upsert("o2", {{"name", Text("Two")}}),
                                    Upsert("o1", {{"notes", Text("updated in the same batch")}})});
  ASSERT_EQ(results.size(), 3u);
  const auto update = WriteOk(*connector_, Upsert("o2", {{"email", Text("two@example.com")}}));
  const FullScan after = ScanAll(*connector_, before.cursor, 100);
  ASSERT_EQ(after.rows.count("o1"), 1u);
  ASSERT_EQ(after.rows.count("o2"), 1u);
  EXPECT_EQ(after.rows.at("o1").version, results[2].version);
  EXPECT_EQ(after.rows.at("o2").version, update.version);
  EXPECT_EQ(GetRow(*connector_, "o1").version, results[2].version);
  ExpectText(after.rows.at("o1"), "notes", "updated in the same batch");
}

TEST_P(ConnectorConformance, ExternalEditChangesTheVersion) {
  WriteOk(*connector_, Upsert("e1", {{"name", Text("Eve")}, {"notes", Text("before")}}));
  WriteOk(*connector_, Upsert("e2", {{"name", Text("Untouched")}}));
  const FullScan before = ScanAll(*connector_, "", 100);
  fixture_->ExternalEdit("e1", "notes", "edited elsewhere");
  const FullScan resumed = ScanAll(*connector_, before.cursor, 100);
  ASSERT_EQ(resumed.rows.count("e1"), 1u) << "the edited row must come back from the cursor";
  EXPECT_NE(resumed.rows.at("e1").version, before.rows.at("e1").version);
  ExpectText(resumed.rows.at("e1"), "notes", "edited elsewhere");
  if (resumed.rows.count("e2")) {
    EXPECT_EQ(resumed.rows.at("e2").version, before.rows.at("e2").version);
  }
  const FullScan full = ScanAll(*connector_, "", 100);
  EXPECT_EQ(full.rows.at("e1").version, resumed.rows.at("e1").version);
}

// Compare-and-set: a write decided on an older version of its row is not made, so a
// change another program made since the engine's last read is never written over.
TEST_P(ConnectorConformance, AWriteExpectingAnOlderVersionIsNotMade) {
  const auto v1 =
      WriteOk(*connector_, Upsert("x1", {{"name", Text("Xena")}, {"notes", Text("before")}}));
  WriteOk(*connector_, Upsert("x2", {{"name", Text("Doomed")}}));
  fixture_->ExternalEdit("x1", "notes", "edited elsewhere");
  WriteOp update = Upsert("x1", {{"name", Text("Xavier")}});
  update.expect_version = v1.version;
  WriteOp remove = Delete("x2");
  remove.expect_version = "a version it never had";
  auto r = connector_->Write({update, remove});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].outcome, Outcome::kConflict) << r[0].message;
  EXPECT_EQ(r[1].outcome, Outcome::kConflict) << r[1].message;
  const Row now = GetRow(*connector_, "x1");
  ExpectText(now, "name", "Xena");
  ExpectText(now, "notes", "edited elsewhere");
  EXPECT_EQ(r[0].version, now.version) << "a conflict reports the version the row has now";
  GetRow(*connector_, "x2");  // not deleted
  // Expecting the version it has now, the write is made.
  update.expect_version = now.version;
  const auto w = WriteOk(*connector_, update);
  ExpectText(GetRow(*connector_, "x1"), "name", "Xavier");
  ExpectText(GetRow(*connector_, "x1"), "notes", "edited elsewhere");
  EXPECT_EQ(GetRow(*connector_, "x1").version, w.version);
}

TEST_P(ConnectorConformance, UpsertOfAnExistingKeyUpdatesAndNeverDuplicates) {
  WriteOk(*connector_, Upsert("k1", {{"name", Text("First")}}));
  WriteOk(*connector_, Upsert("k1", {{"name", Text("Second")}}));
  auto batch = connector_->Write(
      {Upsert("k1", {{"email", Text("k@example.com")}}), Upsert("k1", {{"name", Text("Third")}})});
  for (const auto& r : batch) EXPECT_EQ(r.outcome, Outcome::kOk) << r.message;
  const FullScan scan = ScanAll(*connector_, "", 100);
  ASSERT_EQ(scan.rows.size(), 1u);
  ExpectText(scan.rows.at("k1"), "name", "Third");
  ExpectText(scan.rows.at("k1"), "email", "k@example.com");
}

// Keys are opaque text: quotes, SQL, '/', an escaped '/', URL and cursor punctuation,
// unicode and spaces each name their own row, through writes, reads, scans and deletes.
TEST_P(ConnectorConformance, KeysWithQuotesSlashesAndUnicodeAreDistinctRows) {
  const std::vector<std::string> keys = {
      "o'brien",      "say \"hi\"", "'); DROP TABLE contacts;--",
      "a/b",          "a%2Fb",      "a/b/",
      "x?y=1&z#frag", "a|b",        "key:k1",
      "Zoë-東京-🚀",   "with space", "plus+sign",
      "[\"json\"]",
  };
  std::vector<WriteOp> ops;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ops.push_back(Upsert(keys[i], {{"name", Text("row " + std::to_string(i))}}));
  }
  const auto written = connector_->Write(ops);
  ASSERT_EQ(written.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE("key " + keys[i]);
    ASSERT_EQ(written[i].outcome, Outcome::kOk) << written[i].message;
    EXPECT_EQ(written[i].key, keys[i]);
  }
  // Written again: updates, never a second row.
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ops[i] = Upsert(keys[i], {{"notes", Text("again " + std::to_string(i))}});
  }
  const auto again = connector_->Write(ops);
  for (const auto& r : again) ASSERT_EQ(r.outcome, Outcome::kOk) << r.message;
  const FullScan scan = ScanAll(*connector_, "", 5);
  EXPECT_EQ(scan.rows.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE("key " + keys[i]);
    ASSERT_EQ(scan.rows.count(keys[i]), 1u);
    const Row& row = scan.rows.at(keys[i]);
    ExpectText(row, "name", "row " + std::to_string(i));
    ExpectText(row, "notes", "again " + std::to_string(i));
    EXPECT_EQ(row.version, again[i].version);
    const Row got = GetRow(*connector_, keys[i]);
    EXPECT_EQ(got.key, keys[i]);
    ExpectText(got, "name", "row " + std::to_string(i));
  }
  // Deleting "a/b" leaves "a%2Fb" and "a/b/" (no escaping or prefix mix-up).
  WriteOk(*connector_, Delete("a/b"));
  auto gone = connector_->Get("a/b");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  ExpectText(GetRow(*connector_, "a%2Fb"), "name", "row 4");
  ExpectText(GetRow(*connector_, "a/b/"), "name", "row 5");
  EXPECT_EQ(ScanAll(*connector_, "", 100).rows.size(), keys.size() - 1);
}

// Two keys that differ only in case are two rows where the source compares keys exactly,
// one row where it folds case (ConnectorFixture::CaseSensitiveKeys; sqlite_nocase).
TEST_P(ConnectorConformance, KeysDifferingOnlyInCase) {
  WriteOk(*connector_, Upsert("Case-Key", {{"name", Text("upper")}}));
  const auto lower = WriteOk(*connector_, Upsert("case-key", {{"name", Text("lower")}}));
  const FullScan scan = ScanAll(*connector_, "", 100);
  if (fixture_->CaseSensitiveKeys()) {
    EXPECT_EQ(lower.key, "case-key");
    ASSERT_EQ(scan.rows.size(), 2u);
    ExpectText(scan.rows.at("Case-Key"), "name", "upper");
    ExpectText(scan.rows.at("case-key"), "name", "lower");
    ExpectText(GetRow(*connector_, "Case-Key"), "name", "upper");
    WriteOk(*connector_, Delete("CASE-KEY"));  // a third key: nothing to delete
    WriteOk(*connector_, Delete("case-key"));
    const FullScan after = ScanAll(*connector_, "", 100);
    ASSERT_EQ(after.rows.size(), 1u);
    ExpectText(after.rows.at("Case-Key"), "name", "upper");
  } else {
    // The second write updated the first row, which keeps the key it was created with.
    EXPECT_EQ(lower.key, "Case-Key");
    ASSERT_EQ(scan.rows.size(), 1u);
    ExpectText(scan.rows.begin()->second, "name", "lower");
    ExpectText(GetRow(*connector_, "CASE-KEY"), "name", "lower");
  }
}

TEST_P(ConnectorConformance, ValuesRoundTripExactly) {
  const std::vector<std::string> values = {
      "He said \"hi\", then 'bye'",
      "line one\nline two\r\nline three\rend",
      "Zoë Ångström — 東京 — 🚀",
      "'); DROP TABLE t;--",
      "  padded with spaces  ",
      "\ttab, comma; semicolon | pipe",
      "\"\"",
      "=SUM(A1:A2)",
      std::string(100 * 1024, 'x') + "\"end\"",
  };
  std::vector<WriteOp> ops;
  for (std::size_t i = 0; i < values.size(); ++i) {
    ops.push_back(Upsert("v" + std::to_string(i), {{"notes", Text(values[i])}}));
  }
  for (const auto& r : connector_->Write(ops)) ASSERT_EQ(r.outcome, Outcome::kOk) << r.message;
  const FullScan scan = ScanAll(*connector_, "", 100);
  const FullScan again = ScanAll(*connector_, "", 100);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string key = "v" + std::to_string(i);
    SCOPED_TRACE("value " + std::to_string(i));
    ExpectText(GetRow(*connector_, key), "notes", values[i]);
    ASSERT_EQ(scan.rows.count(key), 1u);
    ExpectText(scan.rows.at(key), "notes", values[i]);
    EXPECT_EQ(scan.rows.at(key).version, again.rows.at(key).version);
  }
}

TEST_P(ConnectorConformance, BadConfigurationIsRejectedWithAClearMessage) {
  const auto bad = fixture_->BadConfigs();
  ASSERT_FALSE(bad.empty()) << "a fixture supplies at least one bad configuration";
  for (const auto& b : bad) {
    SCOPED_TRACE(b.what);
    config::Diagnostics errors;
    EXPECT_EQ(connectors::Create(b.spec, errors), nullptr);
    ASSERT_FALSE(errors.empty());
    bool found = false;
    for (const auto& e : errors) {
      EXPECT_FALSE(e.file.empty()) << e.ToString();
      found = found || e.ToString().find(b.expected) != std::string::npos;
    }
    EXPECT_TRUE(found) << "expected '" << b.expected << "' in:\n" << config::Join(errors);
  }
}

}  // namespace
}  // namespace ghl::conformance
