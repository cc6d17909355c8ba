// The CSV connector's own behaviour beyond the conformance suite: parsing (table-driven),
// broken rows, file-level guarantees (atomic replace, mode, order, bytes of untouched rows),
// soft delete, composite keys, typed values, settling, and edits made by other programs.
#include "connectors/csv/csv_connector.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/csv/csv_file.h"
#include "connectors/csv/csv_reader.h"
#include "tests/conformance/fixture.h"
#include "tests/support/temp_dir.h"

namespace ghl::connectors::csv {
namespace {

using mapping::Value;
namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Marks a file as saved an hour ago, so that `settle` lets the connector read it.
void Age(const fs::path& p) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::hours(1));
}

WriteOp Upsert(const std::string& key, mapping::Fields fields) {
  return {WriteOp::Kind::kUpsert, key, std::move(fields)};
}
WriteOp Delete(const std::string& key) { return {WriteOp::Kind::kDelete, key, {}}; }

// ---- the reader, table-driven ----

struct ReadCase {
  std::string name;
  std::string text;
  char delimiter;
  std::vector<std::string>
      expected;  // per record: fields joined by '|', or "!line:first word of the error"
};

std::string Describe(const CsvRecord& r) {
  if (!r.error.empty())
    return "!" + std::to_string(r.line) + ":" + r.error.substr(0, r.error.find(' '));
  std::string out;
  for (std::size_t i = 0; i < r.fields.size(); ++i) out += (i ? "|" : "") + r.fields[i];
  return out;
}

TEST(CsvReader, ReadsRecordsAndReportsBrokenOnesByLine) {
  const std::vector<ReadCase> cases = {
      {"plain", "a,b\n1,2\n", ',', {"a|b", "1|2"}},
      {"no final newline", "a,b\n1,2", ',', {"a|b", "1|2"}},
      {"crlf and blank lines", "a,b\r\n\r\n1,2\r\n", ',', {"a|b", "1|2"}},
      {"cr only", "a,b\r1,2\r", ',', {"a|b", "1|2"}},
      {"quotes", "\"a,\"\"b\"\"\",c\n", ',', {"a,\"b\"|c"}},
      {"spaces kept", " a , b \n", ',', {" a | b "}},
      {"embedded newline", "1,\"x\ny\",z\n2,w,v\n", ',', {"1|x\ny|z", "2|w|v"}},
      {"semicolon", "a;b,c\n", ';', {"a|b,c"}},
      {"empty fields", ",\n", ',', {"|"}},
      {"stray quote", "1,a\"b\n2,c\n", ',', {"!1:malformed", "2|c"}},
      {"text after quote", "1,\"a\"b\n2,c\n", ',', {"!1:malformed", "2|c"}},
      {"unterminated", "1,a\n2,\"open\n3,c\n", ',', {"1|a", "!2:unterminated", "3|c"}},
      {"multi-line then broken",
       "1,\"x\ny\"z\n2,c\n",
       ',',
       {"!1:malformed", "!2:malformed", "2|c"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    CsvReader reader(c.text, c.delimiter);
    CsvRecord r;
    std::vector<std::string> got;
    std::size_t covered = 0;
    while (reader.Next(r)) {
      got.push_back(Describe(r));
      EXPECT_EQ(r.begin, covered) << "spans must touch";
      covered = r.end;
    }
    EXPECT_EQ(reader.tail(), covered);
    EXPECT_EQ(got, c.expected);
  }
}

TEST(CsvReader, WrittenRecordsReadBackExactly) {
  const std::vector<std::string> fields = {
      "plain", "",   "a,b", "say \"hi\"",         "multi\r\nline",
      " pad ", "\t", "🚀 ü", "'); DROP TABLE t;--"};
  std::string text;
  AppendRecord(text, fields, ',', "\r\n");
  AppendRecord(text, {""}, ',', "\n");  // a lone empty field must not become a blank line
  CsvReader reader(text, ',');
  CsvRecord r;
  ASSERT_TRUE(reader.Next(r));
  EXPECT_EQ(r.fields, fields);
  ASSERT_TRUE(reader.Next(r));
  EXPECT_EQ(r.fields, std::vector<std::string>{""});
  EXPECT_FALSE(reader.Next(r));
  std::string simple;
  AppendRecord(simple, {"a", "b c"}, ';', "\n");
  EXPECT_EQ(simple, "a;b c\n");  // quoted only where needed
}

TEST(CsvReader, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Zoë 東京 🚀"));
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));       // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("truncated \xE6\x9D"));
}

// ---- the connector ----

class CsvConnectorTest : public ::testing::Test {
 protected:
  fs::path File() const { return dir_ / "data/contacts.csv"; }

  // Writes the file (aged, so that it has settled) and makes a connector on it.
  std::unique_ptr<Connector> On(const std::string& contents, const std::string& extra = "",
                                std::vector<std::string> keys = {"id"},
                                const std::string& soft_delete = "") {
    if (!contents.empty()) {
      dir_.Write("data/contacts.csv", contents);
      Age(File());
    }
    fs::create_directories(dir_ / "data");
    auto spec =
        conformance::SpecFromYaml("csv", "{type: csv, dir: data}",
                                  "{connector: c, file: contacts.csv" + extra + "}", dir_.path());
    spec.key_columns = std::move(keys);
    spec.soft_delete_column = soft_delete;
    config::Diagnostics errors;
    auto c = connectors::Create(spec, errors);
    EXPECT_TRUE(errors.empty()) << config::Join(errors);
    return c;
  }

  static ScanPage ScanOk(Connector& c, const std::string& cursor = "") {
    auto page = c.Scan(cursor, 0);
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
    return page.ok() ? *page : ScanPage{};
  }

  ghl::testing::TempDir dir_;
};

TEST_F(CsvConnectorTest, BrokenRowsAreReportedWithLinesAndTheRestSyncs) {
  auto c =
      On("id,name,email\n"  // 1
         "1,Ann,ann@x\n"    // 2  duplicate of line 10
         "2,Bob\n"          // 3  too few fields
         "3,Cy\"x,cy@x\n"   // 4  stray quote
         "4,Di,di@x\n"      // 5
         ",Ed,ed@x\n"       // 6  no key
         "5,\"multi\n"      // 7
         "line\",m@x\n"     // 8
         "6,caf\xE9,f@x\n"  // 9  not UTF-8
         "1,Dup,dup@x\n"    // 10 duplicate of line 2
         "7,Gi,gi@x\n"      // 11
         "8,\"Hi,hi@x\n");  // 12 unterminated
  const ScanPage page = ScanOk(*c);
  std::vector<std::string> keys;
  for (const auto& r : page.rows) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"4", "5", "7"}));
  std::vector<std::string> where;
  for (const auto& r : page.rejected) where.push_back(r.where);
  EXPECT_EQ(where, (std::vector<std::string>{"contacts.csv:2", "contacts.csv:3", "contacts.csv:4",
                                             "contacts.csv:6", "contacts.csv:9", "contacts.csv:10",
                                             "contacts.csv:12"}));
  EXPECT_NE(page.rejected[0].reason.find("duplicate key '1' (also on line 10)"), std::string::npos);
  EXPECT_NE(page.rejected[1].reason.find("has 2 fields, the header has 3"), std::string::npos);
  EXPECT_NE(page.rejected[3].reason.find("no key"), std::string::npos);
  EXPECT_NE(page.rejected[4].reason.find("UTF-8"), std::string::npos);
  EXPECT_NE(page.rejected[6].reason.find("unterminated"), std::string::npos);
  EXPECT_FALSE(page.complete) << "keys on broken lines must not be taken as deleted";
  EXPECT_EQ(page.cursor, "") << "the next scan must read the whole file again";

  // A write keeps every broken line byte for byte, and refuses keys it cannot trust.
  const std::string before = Slurp(File());
  auto results = c->Write({Upsert("4", {{"name", Value("Dora")}}), Upsert("1", {})});
  EXPECT_EQ(results[0].outcome, Outcome::kOk) << results[0].message;
  EXPECT_EQ(results[1].outcome, Outcome::kFatal);
  EXPECT_NE(results[1].message.find("contacts.csv:2: duplicate key"), std::string::npos);
  std::string expected = before;
  expected.replace(expected.find("4,Di,di@x"), 9, "4,Dora,di@x");
  EXPECT_EQ(Slurp(File()), expected);
}

TEST_F(CsvConnectorTest, UntouchedRowsKeepTheirBytesColumnOrderAndUnknownColumns) {
  auto c =
      On("\xEF\xBB\xBFnotes,id,extra,name\r\n\"quoted anyway\",1,keep me,Ann\r\n"
         "n2,2,x,Bob\r\n");
  auto r = c->Write({Upsert("2", {{"name", Value("Robert")}}),
                     Upsert("3", {{"name", Value("New, with comma")}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(r[1].outcome, Outcome::kOk);
  EXPECT_EQ(Slurp(File()),
            "\xEF\xBB\xBFnotes,id,extra,name\r\n\"quoted anyway\",1,keep me,Ann\r\n"
            "n2,2,x,Robert\r\n,3,,\"New, with comma\"\r\n");
  const ScanPage page = ScanOk(*c);
  ASSERT_EQ(page.rows.size(), 3u);
  EXPECT_EQ(page.rows[0].fields.at("notes"), Value("quoted anyway"));  // BOM not in a name
  EXPECT_TRUE(mapping::IsNull(page.rows[2].fields.at("extra")));
}

TEST_F(CsvConnectorTest, UnknownColumnFailsThatOperationOnlyAndNamesIt) {
  auto c = On("id,name\n1,Ann\n");
  auto r =
      c->Write({Upsert("1", {{"phone", Value("+1 555")}}), Upsert("2", {{"name", Value("B")}})});
  EXPECT_EQ(r[0].outcome, Outcome::kFatal);
  EXPECT_NE(r[0].message.find("column 'phone' is not in the header of contacts.csv"),
            std::string::npos)
      << r[0].message;
  EXPECT_EQ(r[1].outcome, Outcome::kOk);
  EXPECT_EQ(Slurp(File()), "id,name\n1,Ann\n2,B\n");
}

TEST_F(CsvConnectorTest, TypedValuesAreWrittenAsText) {
  auto c = On("id,a,b,c,d,e\n");
  auto r = c->Write({Upsert("1", {{"a", Value(42.0)},
                                  {"b", Value(1.5)},
                                  {"c", Value(true)},
                                  {"d", Value(mapping::List{"vip", "new"})},
                                  {"e", Value()}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(Slurp(File()), "id,a,b,c,d,e\n1,42,1.5,true,\"[\"\"vip\"\",\"\"new\"\"]\",\n");
  auto row = c->Get("1");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->fields.at("a"), Value("42"));
  EXPECT_TRUE(mapping::IsNull((*row)->fields.at("e")));
}

TEST_F(CsvConnectorTest, SoftDeleteSetsTheFlagAndKeepsTheRow) {
  auto c = On("id,name,deleted\n1,Ann,\n2,Bob,no\n", "", {"id"}, "deleted");
  auto r = c->Write({Delete("1")});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(Slurp(File()), "id,name,deleted\n1,Ann,true\n2,Bob,no\n");
  const ScanPage page = ScanOk(*c);
  ASSERT_EQ(page.rows.size(), 2u);
  EXPECT_TRUE(page.rows[0].deleted);
  EXPECT_FALSE(page.rows[1].deleted);
  EXPECT_EQ(page.rows[0].version, r[0].version);
  EXPECT_TRUE(page.complete);
}

TEST_F(CsvConnectorTest, CompositeKeysAreJsonArrays) {
  auto c = On("org,id,name\nacme,1,Ann\n", "", {"org", "id"});
  const ScanPage page = ScanOk(*c);
  ASSERT_EQ(page.rows.size(), 1u);
  EXPECT_EQ(page.rows[0].key, R"(["acme","1"])");
  auto r = c->Write({Upsert(R"(["acme","1"])", {{"name", Value("Anna")}}),
                     Upsert("", {{"org", Value("beta")}, {"id", Value("1")}}),
                     Upsert("", {{"name", Value("no key")}}), Upsert("plain", {})});
  EXPECT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(r[1].key, R"(["beta","1"])");
  EXPECT_EQ(r[2].outcome, Outcome::kFatal);
  EXPECT_EQ(r[3].outcome, Outcome::kFatal);
  EXPECT_EQ(Slurp(File()), "org,id,name\nacme,1,Anna\nbeta,1,\n");
}

TEST_F(CsvConnectorTest, EditByAnotherProgramBetweenScanAndWriteIsKept) {
  auto c = On("id,name\n1,Ann\n2,Bob\n");
  ScanOk(*c);
  dir_.Write("data/contacts.csv", "id,name\n1,Ann\n2,Bobby\n3,Cy\n");
  Age(File());
  auto r = c->Write({Upsert("1", {{"name", Value("Anna")}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(Slurp(File()), "id,name\n1,Anna\n2,Bobby\n3,Cy\n");
}

TEST_F(CsvConnectorTest, AWriteExpectingAnOlderVersionOfItsRowIsNotMade) {
  auto c = On("id,name,phone\n1,Ann,111\n2,Bob,222\n");
  auto page = ScanOk(*c);
  ASSERT_EQ(page.rows.size(), 2u);
  const std::string v1 = page.rows[0].version;
  // Another program changes row 1's phone after that scan.
  dir_.Write("data/contacts.csv", "id,name,phone\n1,Ann,999\n2,Bob,222\n");
  Age(File());
  WriteOp stale = Upsert("1", {{"name", Value("Anna")}});
  stale.expect_version = v1;
  WriteOp gone = Delete("2");
  gone.expect_version = "not-its-version";
  auto r = c->Write({stale, gone});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].outcome, Outcome::kConflict) << r[0].message;
  EXPECT_EQ(r[1].outcome, Outcome::kConflict) << r[1].message;
  EXPECT_EQ(Slurp(File()), "id,name,phone\n1,Ann,999\n2,Bob,222\n") << "nothing written";
  // The version the conflict reports is the row's now: a write expecting it goes through.
  auto now = c->Get("1");
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ(r[0].version, (**now).version);
  stale.expect_version = r[0].version;
  r = c->Write({stale});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(Slurp(File()), "id,name,phone\n1,Anna,999\n2,Bob,222\n");
  // A row that is gone conflicts too (version "").
  WriteOp missing = Upsert("7", {{"name", Value("Zed")}});
  missing.expect_version = v1;
  r = c->Write({missing});
  EXPECT_EQ(r[0].outcome, Outcome::kConflict);
  EXPECT_EQ(r[0].version, "");
}

TEST_F(CsvConnectorTest, ReplaceRefusesWhenTheFileChangedSinceItWasRead) {
  dir_.Write("data/contacts.csv", "old\n");
  auto read = ReadWholeFile(File());
  ASSERT_TRUE(read.ok() && read->has_value());
  dir_.Write("data/contacts.csv", "someone else's edit\n");
  auto replaced = ReplaceFile(File(), "mine\n", (*read)->stamp);
  ASSERT_FALSE(replaced.ok());
  EXPECT_NE(replaced.error().message.find("changed by another program"), std::string::npos);
  EXPECT_EQ(Slurp(File()), "someone else's edit\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "data"), fs::directory_iterator()), 1);
  // Creating fails rather than replacing a file that appeared meanwhile.
  EXPECT_FALSE(ReplaceFile(File(), "mine\n", std::nullopt).ok());
}

TEST_F(CsvConnectorTest, FailedWriteLeavesTheOldFileAndNoTemporary) {
  auto c = On("id,notes\n1,short\n");
  const std::string before = Slurp(File());
  // Writes past 4 KiB fail with EFBIG (root ignores permissions, not this limit).
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ignore, &old);
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 4096;
  setrlimit(RLIMIT_FSIZE, &small);
  auto r = c->Write({Upsert("1", {{"notes", Value(std::string(100'000, 'x'))}})});
  setrlimit(RLIMIT_FSIZE, &saved);
  sigaction(SIGXFSZ, &old, nullptr);
  EXPECT_EQ(r[0].outcome, Outcome::kRetry);
  EXPECT_NE(r[0].message.find("cannot write"), std::string::npos) << r[0].message;
  EXPECT_EQ(Slurp(File()), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "data"), fs::directory_iterator()), 1);
}

TEST_F(CsvConnectorTest, WriteKeepsTheFileMode) {
  auto c = On("id,name\n1,Ann\n");
  fs::permissions(File(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  ASSERT_EQ(c->Write({Upsert("1", {{"name", Value("Anna")}})})[0].outcome, Outcome::kOk);
  struct stat st {};
  ASSERT_EQ(::stat(File().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(CsvConnectorTest, MissingFileIsAnErrorUnlessCreateIsSet) {
  auto plain = On("");
  auto health = plain->Health();
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.error().message.find("does not exist"), std::string::npos);
  EXPECT_FALSE(plain->Scan("", 10).ok());
  EXPECT_EQ(plain->Write({Upsert("1", {})})[0].outcome, Outcome::kRetry);

  auto creating = On("", ", create: true, columns: [id, name]");
  EXPECT_TRUE(creating->Health().ok());
  const ScanPage empty = ScanOk(*creating);
  EXPECT_TRUE(empty.rows.empty());
  EXPECT_TRUE(empty.complete);
  auto r = creating->Write({Upsert("1", {{"name", Value("Ann")}})});
  ASSERT_EQ(r[0].outcome, Outcome::kOk) << r[0].message;
  EXPECT_EQ(Slurp(File()), "id,name\n1,Ann\n");
}

TEST_F(CsvConnectorTest, HeaderWithoutTheKeyColumnIsAnError) {
  auto c = On("name,email\nAnn,a@x\n");
  auto health = c->Health();
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.error().message.find("contacts.csv:1: the header has no column 'id'"),
            std::string::npos)
      << health.error().message;
  EXPECT_FALSE(c->Scan("", 10).ok());
}

TEST_F(CsvConnectorTest, AFileStillBeingWrittenIsNotRead) {
  auto c = On("id,name\n1,Ann\n", ", settle: 1h");
  EXPECT_TRUE(c->Scan("", 10).ok());                       // aged by On()
  dir_.Write("data/contacts.csv", "id,name\n1,Ann\n2,B");  // just now
  auto fresh = c->Scan("", 10);
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.error().message.find("`settle`"), std::string::npos);
  Age(File());
  EXPECT_TRUE(c->Scan("", 10).ok());
  // The connector's own writes need no settling.
  ASSERT_EQ(c->Write({Upsert("3", {})})[0].outcome, Outcome::kOk);
  EXPECT_TRUE(c->Scan("", 10).ok());
}

// An export that replaced the file just now: with a short `settle` the connector waits it
// out once and reads the file, instead of failing every call that comes too early.
TEST_F(CsvConnectorTest, AFileWrittenJustNowIsReadOnceItHasSettled) {
  auto c = On("id,name\n1,Ann\n", ", settle: 300ms");
  dir_.Write("data/contacts.csv", "id,name\n1,Ann\n2,Bob\n");  // just now
  auto page = c->Scan("", 10);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->rows.size(), 2u);
  dir_.Write("data/contacts.csv", "id,name\n1,Ann\n2,Bob\n3,Cy\n");
  auto row = c->Get("3");
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_TRUE(row->has_value());
}

TEST_F(CsvConnectorTest, UnchangedFileShortCircuitsAndPagesReadOneSnapshot) {
  auto c = On("id,name\n1,A\n2,B\n3,C\n");
  const ScanPage full = ScanOk(*c);
  ASSERT_EQ(full.rows.size(), 3u);
  EXPECT_EQ(full.cursor.size(), 64u);
  const ScanPage again = ScanOk(*c, full.cursor);
  EXPECT_TRUE(again.rows.empty());
  EXPECT_FALSE(again.complete);
  EXPECT_EQ(again.cursor, full.cursor);

  auto first = c->Scan("", 2);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->done);
  dir_.Write("data/contacts.csv", "id,name\n9,Z\n");  // changes mid-scan
  Age(File());
  auto second = c->Scan(first->cursor, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->rows.size(), 1u);
  EXPECT_EQ(second->rows[0].key, "3") << "a paged scan reads the file as it was when it began";
  EXPECT_TRUE(second->done);
  const ScanPage changed = ScanOk(*c, second->cursor);
  ASSERT_EQ(changed.rows.size(), 1u);
  EXPECT_EQ(changed.rows[0].key, "9");
  EXPECT_TRUE(changed.complete);
}

// The cursor of a finished scan names the bytes and the settings they were read with: a
// connector made again with the same settings (a restart) skips the unchanged file; one
// whose key or delimiter changed (an edited mapping) reads it again, and says so when the
// file no longer fits.
TEST_F(CsvConnectorTest, AnUnchangedFileIsReadAgainWhenHowItIsReadChanges) {
  auto c = On("id,name\n1,A\n2,B\n");
  const ScanPage full = ScanOk(*c);
  ASSERT_EQ(full.rows.size(), 2u);
  auto same = On("");
  const ScanPage unchanged = ScanOk(*same, full.cursor);
  EXPECT_TRUE(unchanged.rows.empty());
  EXPECT_EQ(unchanged.cursor, full.cursor);
  auto rekeyed = On("", "", {"name"});
  const ScanPage again = ScanOk(*rekeyed, full.cursor);
  ASSERT_EQ(again.rows.size(), 2u);
  EXPECT_EQ(again.rows[0].key, "A");
  auto semicolon = On("", ", delimiter: ';'");
  auto refused = semicolon->Scan(full.cursor, 0);
  ASSERT_FALSE(refused.ok()) << "a file that no longer fits is reported, not skipped";
  EXPECT_NE(refused.error().message.find("id"), std::string::npos) << refused.error().message;
}

TEST_F(CsvConnectorTest, TabAndSemicolonDelimiters) {
  auto tab = On("id\tname\n1\tA, B\n", ", delimiter: '\\t'");
  auto page = ScanOk(*tab);
  ASSERT_EQ(page.rows.size(), 1u);
  EXPECT_EQ(page.rows[0].fields.at("name"), Value("A, B"));
  auto semi = On("id;name\n1;A, B\n", ", delimiter: ';'");
  ASSERT_EQ(semi->Write({Upsert("2", {{"name", Value("x;y")}})})[0].outcome, Outcome::kOk);
  EXPECT_EQ(Slurp(File()), "id;name\n1;A, B\n2;\"x;y\"\n");
}

}  // namespace
}  // namespace ghl::connectors::csv
