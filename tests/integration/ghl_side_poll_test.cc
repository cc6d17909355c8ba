// GhlSide::Poll for appointments against a real ghl-emulator through a real GhlClient:
// GHL cannot search appointments by dateUpdated, so a poll lists the location's calendars
// and each calendar's events in the mapping's window, and keeps those updated since the
// cursor, oldest first.
//
// The emulator has no route that creates calendars, so the world starts from a snapshot
// file with two calendars and a few appointments whose dateUpdated the test chooses (an
// old one, one in a +05:30 location offset, two outside the window); the others are
// booked and edited "as a GHL user" (/_emulator/user/...).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <ctime>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "connectors/ghl/client.h"
#include "core/clock.h"
#include "sync/ghl_gateway.h"
#include "sync/ghl_records.h"
#include "sync/ghl_side.h"
#include "tests/support/emulator_process.h"
#include "tests/support/temp_dir.h"

namespace ghl::sync {
namespace {

using namespace std::chrono_literals;
using ghl_client::ApiResult;
using ghl_client::Lane;
using ghl_client::Outcome;
using testing::EmulatorProcess;
using testing::Json;

constexpr const char* kLocation = "loc-poll";
constexpr const char* kToken = "pit-poll";
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `ms` as GHL writes appointment times: local time and the location's offset
// ("2023-09-25T16:00:00+05:30").
std::string Iso(int64_t ms, int offset_minutes = 0) {
  const std::time_t t = (ms + offset_minutes * kMinute) / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char zone[32];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', off / 60,
                off % 60);
  return std::string(buf) + zone;
}

// A snapshot record: CalendarEventDTO as the emulator stores it.
std::string Event(const std::string& id, const std::string& calendar, int64_t start,
                  const std::string& date_updated) {
  return R"({"id":")" + id + R"(","locationId":")" + kLocation + R"(","doc":{"id":")" + id +
         R"(","title":")" + id + R"(","calendarId":")" + calendar + R"(","locationId":")" +
         kLocation +
         R"(","contactId":"con-1","groupId":"","appointmentStatus":"confirmed","users":[],)" +
         R"("isRecurring":false,"startTime":")" + Iso(start) + R"(","endTime":")" +
         Iso(start + 30 * kMinute) + R"(","dateAdded":")" + date_updated + R"(","dateUpdated":")" +
         date_updated +
         R"(","createdBy":{"source":"calendar_page"},"meetingLocationType":"default",)" +
         R"("meetingLocationId":"default"}})";
}

std::string Calendar(const std::string& id, const std::string& name) {
  return R"({"id":")" + id + R"(","locationId":")" + kLocation + R"(","doc":{"id":")" + id +
         R"(","name":")" + name + R"(","locationId":")" + kLocation +
         R"(","isActive":true,"calendarType":"event","slotDuration":30}})";
}

// Runs calls through a real GhlClient on this thread and logs them; `fail` answers chosen
// calls with a 503 instead of sending them.
class ClientGateway final : public GhlGateway {
 public:
  struct Logged {
    std::string operation;
    std::string path;
    Lane lane;
  };

  explicit ClientGateway(const EmulatorProcess& emu) {
    ghl_client::ClientOptions o;
    o.base_url = emu.base_url();
    o.timeout = 5s;
    client_ = std::make_unique<ghl_client::GhlClient>(io_, curl_, clock_, o);
    client_->AddLocation(kLocation, std::make_shared<ghl_client::StaticToken>(kToken));
  }

  std::vector<ApiResult> CallAll(std::vector<GhlCall> calls) override {
    std::vector<std::optional<ApiResult>> answers(calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
      log.push_back({calls[i].request.operation, calls[i].request.path, calls[i].lane});
      if (fail && fail(calls[i].request.path)) {
        ApiResult r;
        r.outcome = Outcome::kRetry;
        r.error = ghl_client::ErrorClass::kServer;
        r.status = 503;
        r.message = "Service Unavailable";
        answers[i] = r;
        continue;
      }
      client_->Call(calls[i].location_id, calls[i].lane, std::move(calls[i].request),
                    [&answers, i](ApiResult r) { answers[i] = std::move(r); });
    }
    auto all = [&] {
      return std::all_of(answers.begin(), answers.end(),
                         [](const auto& a) { return a.has_value(); });
    };
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!all() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    std::vector<ApiResult> out;
    for (auto& a : answers) out.push_back(a.value_or(ApiResult{Outcome::kRetry}));
    return out;
  }
  int64_t calls_made() const override { return static_cast<int64_t>(log.size()); }

  std::vector<Logged> log;
  std::function<bool(const std::string& path)> fail;

 private:
  boost::asio::io_context io_;
  ghl_client::CurlMulti curl_{io_, {}};
  SystemClock clock_;
  std::unique_ptr<ghl_client::GhlClient> client_;
};

// The epoch-ms value of `key` in a request path's query.
int64_t QueryMs(const std::string& path, const std::string& key) {
  const auto at = path.find(key + "=");
  if (at == std::string::npos) return -1;
  return std::stoll(path.substr(at + key.size() + 1));
}

std::vector<std::string> Ids(const PollResult& r) {
  std::vector<std::string> out;
  for (const auto& rec : r.records) out.push_back(rec.id);
  return out;
}

class AppointmentPoll : public ::testing::Test {
 protected:
  void SetUp() override {
    t0_ = Now();
    // Outside the window (past 2d, future 30d): one 60 days ahead, one that ended 10 days
    // ago, both updated a minute ago. Inside: one updated an hour ago (before `since`),
    // and one updated 5 minutes ago written in +05:30, whose text sorts after a UTC time
    // of now although it is older.
    const std::string snapshot =
        R"({"version":1,"idStream":"7","locations":[{"id":")" + std::string(kLocation) +
        R"(","name":"Poll","companyId":"co-poll"}],"tokens":[{"token":")" + kToken +
        R"(","kind":"privateIntegration","locationId":")" + kLocation +
        R"(","companyId":"co-poll"}],"collections":{"contacts":[{"id":"con-1","locationId":")" +
        kLocation + R"(","doc":{"id":"con-1","locationId":")" + kLocation +
        R"(","firstName":"Ada","name":"Ada","email":"ada@example.com"}}],"calendars":[)" +
        Calendar("cal-a", "Consultations") + "," + Calendar("cal-b", "Repairs") +
        R"(],"appointments":[)" + Event("s-old", "cal-a", t0_ + 3 * kDay, Iso(t0_ - kHour)) + "," +
        Event("s-ist", "cal-b", t0_ + 4 * kDay, Iso(t0_ - 5 * kMinute, 330)) + "," +
        Event("s-far", "cal-b", t0_ + 60 * kDay, Iso(t0_ - kMinute)) + "," +
        Event("s-past", "cal-a", t0_ - 10 * kDay, Iso(t0_ - kMinute)) + "]}}";
    const auto file = dir_.Write("world.json", snapshot);
    emu_ = std::make_unique<EmulatorProcess>(std::vector<std::string>{
        "--search-lag-ms", "0", "--no-rate-limit", "--snapshot", file.string()});
    ASSERT_TRUE(emu_->ok()) << emu_->startup_error() << emu_->Log();
    ASSERT_EQ(emu_->location_id(), kLocation);
    gateway_ = std::make_unique<ClientGateway>(*emu_);
  }

  // Books an appointment as a GHL user, `days` ahead on the 30-minute grid; its id.
  std::string Book(const std::string& calendar, int days) {
    const int64_t start = (t0_ / (30 * kMinute) + 1) * 30 * kMinute + days * kDay;
    auto r = emu_->Admin("POST", "/user/calendars/events/appointments",
                         R"({"locationId":")" + std::string(kLocation) + R"(","calendarId":")" +
                             calendar + R"(","contactId":"con-1","startTime":")" + Iso(start) +
                             R"(","title":"booked"})");
    EXPECT_EQ(r.status, 200) << r.body;
    auto d = Json(r.body);
    return d.IsObject() && d.HasMember("id") ? d["id"].GetString() : "";
  }
  std::string DateUpdated(const std::string& id) {
    auto d = Json(emu_->Admin("GET", "/user/calendars/events/appointments/" + id).body);
    return d.IsObject() && d.HasMember("event") ? d["event"]["dateUpdated"].GetString() : "";
  }

  GhlSide Side() {
    mapping::AppointmentWindow window;
    window.past = std::chrono::hours(48);
    window.future = std::chrono::hours(30 * 24);
    return GhlSide(*gateway_, clock_, mapping::GhlObject::kAppointments,
                   {"title", "calendarId", "startTime"}, window);
  }

  testing::TempDir dir_;
  SystemClock clock_;
  int64_t t0_ = 0;
  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<ClientGateway> gateway_;
};

TEST_F(AppointmentPoll, ListsEveryCalendarInTheWindowAndKeepsWhatChangedSinceOldestFirst) {
  const std::string u1 = Book("cal-a", 1);
  const std::string u2 = Book("cal-b", 2);
  ASSERT_FALSE(u1.empty() || u2.empty());
  GhlSide side = Side();

  const int64_t before = Now();
  auto polled = side.Poll(kLocation, FormatIsoMs(t0_ - 10 * kMinute), Lane::kReconcile);
  const int64_t after = Now();
  ASSERT_TRUE(polled.ok()) << polled.error().message;
  // Not s-old (updated before `since`), not s-far / s-past (outside the window); s-ist
  // first: it is the oldest by the instant, whatever its text says. (u1 and u2 may share
  // a second: then they keep the order of the calendars, which GHL lists cal-a first.)
  EXPECT_EQ(Ids(*polled), (std::vector<std::string>{"s-ist", u1, u2}));
  const std::string newest = DateUpdated(u2);
  EXPECT_EQ(polled->newest, newest) << "the newest by the instant, as GHL wrote it";
  ASSERT_EQ(polled->records.size(), 3u);
  EXPECT_EQ(polled->records[0].date_updated, Iso(t0_ - 5 * kMinute, 330));
  EXPECT_EQ(polled->records[1].fields.at("title"), mapping::Value(std::string("booked")));
  EXPECT_EQ(polled->records[2].fields.at("calendarId"), mapping::Value(std::string("cal-b")));
  EXPECT_EQ(polled->records[2].location_id, kLocation);

  // The cost: the calendars (1 call), then one call per calendar, on the lane given.
  ASSERT_EQ(gateway_->log.size(), 3u);
  EXPECT_EQ(gateway_->log[0].operation, "calendars.list");
  std::set<std::string> listed;
  for (size_t i = 1; i < 3; ++i) {
    const auto& call = gateway_->log[i];
    EXPECT_EQ(call.operation, "calendars.events");
    listed.insert(call.path.find("calendarId=cal-a") != std::string::npos   ? "cal-a"
                  : call.path.find("calendarId=cal-b") != std::string::npos ? "cal-b"
                                                                            : call.path);
    EXPECT_GE(QueryMs(call.path, "startTime"), before - 48 * kHour) << call.path;
    EXPECT_LE(QueryMs(call.path, "startTime"), after - 48 * kHour) << call.path;
    EXPECT_GE(QueryMs(call.path, "endTime"), before + 30 * kDay) << call.path;
    EXPECT_LE(QueryMs(call.path, "endTime"), after + 30 * kDay) << call.path;
  }
  EXPECT_EQ(listed, (std::set<std::string>{"cal-a", "cal-b"}));
  for (const auto& call : gateway_->log) EXPECT_EQ(call.lane, Lane::kReconcile) << call.path;

  // A full poll (no cursor: the backfill) has s-old too, but still nothing outside the
  // window; deletions are not inferred from what it lacks.
  gateway_->log.clear();
  auto full = side.Poll(kLocation, "", Lane::kBackfill);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(Ids(*full), (std::vector<std::string>{"s-old", "s-ist", u1, u2}));
  EXPECT_EQ(full->newest, newest);
  ASSERT_EQ(gateway_->log.size(), 3u);
  for (const auto& call : gateway_->log) EXPECT_EQ(call.lane, Lane::kBackfill) << call.path;

  // An edit in GHL a second later: polling from the last cursor finds it (and u2 again,
  // whose dateUpdated is the cursor itself).
  while (Now() < *ParseIsoMs(newest) + 1000) std::this_thread::sleep_for(20ms);
  auto edited =
      emu_->Admin("PUT", "/user/calendars/events/appointments/" + u1, R"({"title":"moved on"})");
  ASSERT_EQ(edited.status, 200) << edited.body;
  auto next = side.Poll(kLocation, polled->newest, Lane::kReconcile);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(Ids(*next), (std::vector<std::string>{u2, u1}));
  EXPECT_EQ(next->newest, DateUpdated(u1));
  ASSERT_EQ(next->records.size(), 2u);
  EXPECT_EQ(next->records[1].fields.at("title"), mapping::Value(std::string("moved on")));
}

TEST_F(AppointmentPoll, AFailedCalendarFailsThePollSoTheCursorStays) {
  GhlSide side = Side();
  gateway_->fail = [](const std::string& path) {
    return path.find("calendarId=cal-b") != std::string::npos;
  };
  auto polled = side.Poll(kLocation, FormatIsoMs(t0_ - 10 * kMinute), Lane::kReconcile);
  ASSERT_FALSE(polled.ok()) << "a poll that missed a calendar must not count as read";
  EXPECT_NE(polled.error().message.find("calendar cal-b"), std::string::npos)
      << polled.error().message;
  EXPECT_NE(polled.error().message.find("503"), std::string::npos) << polled.error().message;

  gateway_->fail = [](const std::string& path) {
    return path.find("/calendars/?") != std::string::npos;
  };
  auto no_list = side.Poll(kLocation, "", Lane::kReconcile);
  ASSERT_FALSE(no_list.ok());
  EXPECT_NE(no_list.error().message.find("listing calendars"), std::string::npos)
      << no_list.error().message;
}

}  // namespace
}  // namespace ghl::sync
