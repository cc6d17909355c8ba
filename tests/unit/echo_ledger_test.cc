// The echo ledger (sync/echo_ledger.h): which GHL values are stale echoes of our own
// writes, one case per table row; then its bounds.
#include "sync/echo_ledger.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ghl::sync {
namespace {

using mapping::Fields;
using mapping::Value;

Value S(const char* s) { return Value{std::string(s)}; }

struct Write {
  const char* value;
  int64_t at_ms;
  std::optional<int64_t> date_updated_ms;
};

// One field `f` of link 1. The base is what the last write left (the last write's value).
struct Case {
  const char* name;
  std::vector<Write> writes;
  const char* base;
  const char* incoming;                      // the GHL record's value of f
  std::optional<int64_t> record_updated_ms;  // its dateUpdated (nullopt: unknown)
  int64_t now_ms;
  const char* expected;  // f after Suppress
};

const Case kCases[] = {
    {"the echo of the last write equals the base: nothing to do",
     {{"A", 1000, 1000}},
     "A",
     "A",
     1000,
     2000,
     "A"},
    {"a delayed echo of an earlier write, older than the last write: suppressed",
     {{"A", 1000, 1000}, {"B", 1100, 1100}},
     "B",
     "A",
     1000,
     2000,
     "B"},
    {"the same echo with its date unknown: suppressed",
     {{"A", 1000, 1000}, {"B", 1100, 1100}},
     "B",
     "A",
     std::nullopt,
     2000,
     "B"},
    {"a user sets the field back to an earlier written value after our last write: it flows",
     {{"A", 1000, 1000}, {"B", 1100, 1100}},
     "B",
     "A",
     5000,
     6000,
     "A"},
    {"a value we never wrote: it flows",
     {{"A", 1000, 1000}, {"B", 1100, 1100}},
     "B",
     "C",
     1050,
     2000,
     "C"},
    {"writes GHL did not date: an equal value is taken for an echo",
     {{"A", 1000, std::nullopt}, {"B", 1100, std::nullopt}},
     "B",
     "A",
     5000,
     6000,
     "B"},
    {"an echo after the ledger's time to live: not recognised, it flows",
     {{"A", 1000, 1000}, {"B", 1100, 1100}},
     "B",
     "A",
     1000,
     1000 + 600'001 + 100,
     "A"},
};

class EchoLedgerCase : public ::testing::TestWithParam<Case> {};

TEST_P(EchoLedgerCase, Decides) {
  const Case& c = GetParam();
  EchoLedger ledger;
  for (const Write& w : c.writes)
    ledger.Remember(1, {{"f", S(w.value)}}, w.at_ms, w.date_updated_ms);
  const Fields base{{"f", S(c.base)}};
  Fields ghl{{"f", S(c.incoming)}};
  // Asked without changing the ledger (the decider's way): the same answer, nothing dropped.
  const size_t size = ledger.size();
  const Fields echoes = ledger.Echoes(1, base, ghl, c.record_updated_ms, c.now_ms);
  EXPECT_EQ(ledger.size(), size) << c.name;
  EXPECT_EQ(mapping::ToJson(echoes), std::string(c.incoming) != c.expected
                                         ? mapping::ToJson(Fields{{"f", S(c.expected)}})
                                         : "{}")
      << c.name;
  const bool suppressed = ledger.Suppress(1, base, ghl, c.record_updated_ms, c.now_ms);
  EXPECT_EQ(mapping::ToJson(ghl.at("f")), mapping::ToJson(S(c.expected))) << c.name;
  EXPECT_EQ(suppressed, std::string(c.incoming) != c.expected) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Table, EchoLedgerCase, ::testing::ValuesIn(kCases));

TEST(EchoLedger, OnlyTheRecordWrittenToIsAffected) {
  EchoLedger ledger;
  ledger.Remember(1, {{"f", S("A")}, {"g", S("x")}}, 1000, 1000);
  ledger.Remember(1, {{"f", S("B")}}, 1100, 1100);
  Fields other{{"f", S("A")}};
  EXPECT_FALSE(ledger.Suppress(2, {{"f", S("B")}}, other, 1000, 2000));
  EXPECT_EQ(mapping::ToJson(other.at("f")), "\"A\"");
  // Fields without an entry are left alone, those with one are checked on their own.
  Fields mine{{"f", S("A")}, {"g", S("y")}};
  EXPECT_TRUE(ledger.Suppress(1, {{"f", S("B")}, {"g", S("x")}}, mine, 1000, 2000));
  EXPECT_EQ(mapping::ToJson(mine.at("f")), "\"B\"");
  EXPECT_EQ(mapping::ToJson(mine.at("g")), "\"y\"");
}

TEST(EchoLedger, StaysBoundedByTimeAndByCount) {
  EchoLedger::Limits limits;
  limits.ttl_ms = 10'000;
  limits.max_per_record = 3;
  limits.max_entries = 1000;
  EchoLedger ledger(limits);
  // A backfill: one write to each of 5,000 records within the time to live.
  for (int64_t link = 0; link < 5000; ++link) ledger.Remember(link, {{"f", S("v")}}, 1000, 1000);
  EXPECT_EQ(ledger.size(), 1000u);
  // The oldest went first: the last record's write is still known, the first's is not.
  Fields last{{"f", S("v")}};
  EXPECT_TRUE(ledger.Suppress(4999, {{"f", S("w")}}, last, 1000, 1000));
  Fields first{{"f", S("v")}};
  EXPECT_FALSE(ledger.Suppress(0, {{"f", S("w")}}, first, 1000, 1000));
  // Many writes to one record keep its latest three.
  for (int i = 0; i < 10; ++i) {
    ledger.Remember(7, {{"f", S(std::to_string(i).c_str())}}, 2000 + i, 2000 + i);
  }
  Fields old{{"f", S("5")}};
  EXPECT_FALSE(ledger.Suppress(7, {{"f", S("9")}}, old, 2000, 2100));
  Fields recent{{"f", S("8")}};
  EXPECT_TRUE(ledger.Suppress(7, {{"f", S("9")}}, recent, 2000, 2100));
  // Past the time to live everything is gone.
  Fields late{{"f", S("v")}};
  EXPECT_FALSE(ledger.Suppress(4999, {{"f", S("w")}}, late, std::nullopt, 2009 + 10'001));
  EXPECT_EQ(ledger.size(), 0u);
}

}  // namespace
}  // namespace ghl::sync
