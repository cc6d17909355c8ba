// Crash safety of the two-way sync: ghl-syncd is killed with SIGKILL at random moments
// (20 times) while thousands of contacts sync both ways with webhooks flowing and both
// sides being edited. After the last restart both sides must converge, field by field, to
// the last edit of every record, with no record lost and none created twice.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "tests/support/sync_harness.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::SyncHarness;

struct Person {
  std::string first, last;
};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v != nullptr ? std::atoi(v) : fallback;
}

#ifdef __SANITIZE_ADDRESS__
constexpr int kPerSide = 500;  // the sanitized build is a few times slower
#else
constexpr int kPerSide = 1000;
#endif

TEST(SyncKillTest, RandomKillsDuringTwoWaySyncLoseAndDuplicateNothing) {
  const int per_side = EnvInt("GHL_KILL_TEST_RECORDS", kPerSide);
  const int kills = EnvInt("GHL_KILL_TEST_KILLS", 20);
  std::mt19937 rng(EnvInt("GHL_KILL_TEST_SEED", 20261129));
  SyncHarness h({"--no-rate-limit", "--search-lag-ms", "300"});
  h.WriteConfig();

  // Expected final state, by email.
  std::map<std::string, Person> want;
  std::map<std::string, std::string> ghl_ids;  // email -> id, for GHL-side edits
  for (int i = 0; i < per_side; ++i) {
    const std::string email = "g" + std::to_string(i) + "@example.com";
    want[email] = {"G" + std::to_string(i), "Ghl"};
    ghl_ids[email] = h.CreateContact(R"("firstName":"G)" + std::to_string(i) +
                                     R"(","lastName":"Ghl","email":")" + email + "\"");
  }
  std::string csv = "id,first_name,last_name,email,tags\n";
  for (int i = 0; i < per_side; ++i) {
    const std::string email = "x" + std::to_string(i) + "@example.com";
    want[email] = {"X" + std::to_string(i), "Csv"};
    csv += "x-" + std::to_string(i) + ",X" + std::to_string(i) + ",Csv," + email + ",\n";
  }
  h.WriteCsv(csv);

  std::vector<std::string> emails;
  for (const auto& [email, p] : want) emails.push_back(email);
  auto pick = [&] {
    return emails[std::uniform_int_distribution<size_t>(0, emails.size() - 1)(rng)];
  };

  auto d = h.StartDaemon();
  for (int round = 0; round < kills; ++round) {
    // While it runs: edits in GHL (their webhooks arrive while it works).
    const auto run_for =
        std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 2500)(rng));
    const auto until = std::chrono::steady_clock::now() + run_for;
    int n = 0;
    while (std::chrono::steady_clock::now() < until) {
      const std::string email = pick();
      auto id = ghl_ids.find(email);
      if (id != ghl_ids.end() && n < 20) {
        const std::string last = "G" + std::to_string(round) + "-" + std::to_string(n++);
        h.UpdateContact(id->second, R"("lastName":")" + last + "\"");
        want[email].last = last;
      }
      std::this_thread::sleep_for(50ms);
    }
    d->Signal(SIGKILL);
    d->Wait(10s);
    // While it is down: edits in the CSV, as a user's export job would make them.
    auto rows = h.Csv();
    ASSERT_FALSE(rows.empty()) << "the CSV could not be read";
    std::string text = "id,first_name,last_name,email,tags\n";
    int edits = 0;
    for (auto& [key, row] : rows) {
      if (edits < 10 && std::uniform_int_distribution<int>(0, 99)(rng) < 2 &&
          want.count(row["email"]) > 0) {
        row["first_name"] = "C" + std::to_string(round) + "-" + std::to_string(edits++);
        want[row["email"]].first = row["first_name"];
        // A GHL edit of this record that never reached the CSV loses to this later edit
        // (conflict: newest), except for the field it did not touch.
      }
      text += key + "," + row["first_name"] + "," + row["last_name"] + "," + row["email"] + "," +
              row["tags"] + "\n";
    }
    h.WriteCsv(text);
    d = h.StartDaemon();
  }

  // Converged: both sides hold exactly the expected people, each once.
  auto converged = [&](std::string* why) {
    auto ghl = h.Ghl();
    auto rows = h.Csv();
    std::map<std::string, int> ghl_count, csv_count;
    for (const auto& [id, c] : ghl) ++ghl_count[c.at("email")];
    for (const auto& [key, r] : rows) ++csv_count[r.at("email")];
    for (const auto& [email, p] : want) {
      if (ghl_count[email] != 1 || csv_count[email] != 1) {
        *why = email + ": " + std::to_string(ghl_count[email]) + " in GHL, " +
               std::to_string(csv_count[email]) + " in the CSV";
        return false;
      }
    }
    if (ghl.size() != want.size() || rows.size() != want.size()) {
      *why = std::to_string(ghl.size()) + " in GHL, " + std::to_string(rows.size()) +
             " in the CSV, want " + std::to_string(want.size());
      return false;
    }
    for (const auto& [id, c] : ghl) {
      const Person& p = want.at(c.at("email"));
      if (c.at("firstName") != p.first || c.at("lastName") != p.last) {
        *why = "GHL " + c.at("email") + " is " + c.at("firstName") + " " + c.at("lastName") +
               ", want " + p.first + " " + p.last;
        return false;
      }
    }
    for (const auto& [key, r] : rows) {
      const Person& p = want.at(r.at("email"));
      if (r.at("first_name") != p.first || r.at("last_name") != p.last) {
        *why = "CSV " + r.at("email") + " is " + r.at("first_name") + " " + r.at("last_name") +
               ", want " + p.first + " " + p.last;
        return false;
      }
    }
    return true;
  };
  std::string why;
  const bool ok = SyncHarness::Eventually([&] { return converged(&why); }, 180s);
  EXPECT_TRUE(ok) << why << "\n"
                  << d->Log().substr(d->Log().size() > 20000 ? d->Log().size() - 20000 : 0);
  auto [code, dlq] = h.Cli({"dlq", "list"});
  EXPECT_NE(dlq.find("empty"), std::string::npos) << dlq;
}

}  // namespace
}  // namespace ghl
