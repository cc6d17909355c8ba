// ghl-emulator: calendars and appointments (Version 2021-04-15), driven over real HTTP.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::Json;

constexpr const char* kCalVersion = "2021-04-15";

// Epoch ms of a UTC "YYYY-MM-DDTHH:MM" time.
int64_t Ms(const char* utc) {
  std::tm tm{};
  std::sscanf(utc, "%d-%d-%dT%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

using testing::Has;
using testing::Messages;

class EmulatorCalendars : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit"});
    if (!emu_->ok()) return;
    auto info = Json(emu_->Admin("GET", "/info").body);
    calendar_ = new std::string(info["calendars"][0]["id"].GetString());
    user_ = new std::string(info["users"][0]["id"].GetString());
    auto other = Json(emu_->Admin("POST", "/locations", R"({"name":"x"})").body);
    other_token_ = new std::string(other["location"]["token"].GetString());
    auto contact = Json(emu_->Api("POST", "/contacts/",
                                  R"({"locationId":")" + emu_->location_id() +
                                      R"(","firstName":"Ada","lastName":"Lovelace"})")
                            .body);
    contact_ = new std::string(contact["contact"]["id"].GetString());
  }
  static void TearDownTestSuite() {
    delete emu_;
    delete calendar_;
    delete user_;
    delete contact_;
    delete other_token_;
  }
  void SetUp() override { ASSERT_TRUE(emu_->ok()) << emu_->startup_error(); }

  static std::string Loc() { return emu_->location_id(); }
  static testing::HttpReply Cal(const std::string& method, const std::string& path,
                                const std::string& body = "", const std::string& token = "") {
    return emu_->Api(method, path, body, kCalVersion, token);
  }
  // A create body for the seeded calendar and contact, plus `extra` members.
  static std::string Booking(const std::string& start, const std::string& extra = "") {
    return R"({"calendarId":")" + *calendar_ + R"(","locationId":")" + Loc() +
           R"(","contactId":")" + *contact_ + R"(","startTime":")" + start + "\"" +
           (extra.empty() ? "" : ",") + extra + "}";
  }
  // Books and returns the appointment id.
  static std::string Book(const std::string& start, const std::string& extra = "") {
    auto r = Cal("POST", "/calendars/events/appointments", Booking(start, extra));
    EXPECT_EQ(r.status, 200) << r.body;
    auto d = Json(r.body);
    return d.IsObject() && d.HasMember("id") ? d["id"].GetString() : "";
  }
  static uint64_t NextEvent() {
    return Json(emu_->Admin("GET", "/webhooks").body)["next"].GetUint64();
  }

  static EmulatorProcess* emu_;
  static std::string *calendar_, *user_, *contact_, *other_token_;
};
EmulatorProcess* EmulatorCalendars::emu_ = nullptr;
std::string* EmulatorCalendars::calendar_ = nullptr;
std::string* EmulatorCalendars::user_ = nullptr;
std::string* EmulatorCalendars::contact_ = nullptr;
std::string* EmulatorCalendars::other_token_ = nullptr;

TEST_F(EmulatorCalendars, ListsTheLocationsCalendars) {
  auto r = Cal("GET", "/calendars/?locationId=" + Loc());
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = Json(r.body);
  ASSERT_EQ(d["calendars"].Size(), 1u);
  const auto& cal = d["calendars"][0];
  EXPECT_EQ(cal["id"].GetString(), *calendar_);
  EXPECT_STREQ(cal["locationId"].GetString(), Loc().c_str());
  EXPECT_TRUE(cal.HasMember("name"));
  EXPECT_EQ(cal["slotDuration"].GetInt(), 30);

  auto one = Cal("GET", "/calendars/" + *calendar_);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Json(one.body)["calendar"]["id"].GetString(), *calendar_);

  EXPECT_EQ(Json(Cal("GET", "/calendars/?locationId=" + Loc() + "&groupId=nope").body)["calendars"]
                .Size(),
            0u);
  auto unknown = Cal("GET", "/calendars/?locationId=" + Loc() + "&foo=1");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_TRUE(Has(Messages(unknown.body), "property foo should not exist")) << unknown.body;
  EXPECT_EQ(Cal("GET", "/calendars/").status, 422) << "locationId is required";
  EXPECT_EQ(Cal("GET", "/calendars/?locationId=" + Loc(), "", *other_token_).status, 403);
  EXPECT_EQ(Cal("GET", "/calendars/" + *calendar_, "", *other_token_).status, 403);
}

TEST_F(EmulatorCalendars, EveryRouteWantsVersion20210415) {
  const std::string id = Book("2031-03-03T09:00:00Z");
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/calendars/?locationId=" + Loc()},
           {"GET", "/calendars/events?locationId=" + Loc() + "&calendarId=" + *calendar_ +
                       "&startTime=0&endTime=1"},
           {"POST", "/calendars/events/appointments"},
           {"GET", "/calendars/events/appointments/" + id},
           {"PUT", "/calendars/events/appointments/" + id},
           {"DELETE", "/calendars/events/" + id}}) {
    auto wrong = emu_->Api(method, path, method == "GET" ? "" : "{}", "2021-07-28");
    EXPECT_EQ(wrong.status, 400) << method << " " << path << ": " << wrong.body;
    EXPECT_NE(wrong.body.find("2021-04-15"), std::string::npos) << wrong.body;
    EXPECT_EQ(emu_->Api(method, path, method == "GET" ? "" : "{}", "").status, 400);
  }
  EXPECT_EQ(Cal("GET", "/calendars/events/appointments/" + id).status, 200) << "still there";
}

TEST_F(EmulatorCalendars, CreateGetEditDeleteRoundTrip) {
  const std::string start = "2031-03-10T09:00:00+05:30";
  auto created = Cal("POST", "/calendars/events/appointments", Booking(start));
  ASSERT_EQ(created.status, 200) << created.body;
  auto c = Json(created.body);
  const std::string id = c["id"].GetString();
  // AppointmentSchemaResponse, with the times as given and the calendar's 30 min default.
  EXPECT_EQ(c["calendarId"].GetString(), *calendar_);
  EXPECT_STREQ(c["locationId"].GetString(), Loc().c_str());
  EXPECT_EQ(c["contactId"].GetString(), *contact_);
  EXPECT_EQ(c["startTime"].GetString(), start);
  EXPECT_STREQ(c["endTime"].GetString(), "2031-03-10T09:30:00+05:30");
  EXPECT_STREQ(c["title"].GetString(), "Ada Lovelace") << "{{contact.name}} by default";
  EXPECT_STREQ(c["appointmentStatus"].GetString(), "confirmed");
  EXPECT_STREQ(c["meetingLocationType"].GetString(), "default");
  EXPECT_FALSE(c["isRecurring"].GetBool());
  EXPECT_FALSE(c.HasMember("dateAdded")) << "not part of AppointmentSchemaResponse";

  auto got = Cal("GET", "/calendars/events/appointments/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  auto g = Json(got.body);
  const auto& e = g["event"];
  EXPECT_EQ(e["id"].GetString(), id);
  EXPECT_EQ(e["startTime"].GetString(), start);
  EXPECT_TRUE(e["users"].IsArray());
  std::vector<std::string> order;
  for (const auto& m : e.GetObject()) order.emplace_back(m.name.GetString());
  ASSERT_GE(order.size(), 5u);
  EXPECT_EQ(std::vector(order.begin(), order.begin() + 5),
            (std::vector<std::string>{"id", "title", "calendarId", "locationId", "contactId"}))
      << "CalendarEventDTO order";
  const std::regex offset_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d)");
  const std::string added = e["dateAdded"].GetString();
  EXPECT_TRUE(std::regex_match(added, offset_time)) << added;
  EXPECT_EQ(added, e["dateUpdated"].GetString());

  // An edit that changes nothing keeps dateUpdated and fires nothing.
  const uint64_t next = NextEvent();
  auto same =
      Cal("PUT", "/calendars/events/appointments/" + id, R"({"appointmentStatus":"confirmed"})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(NextEvent(), next);

  std::this_thread::sleep_for(1001ms);  // the stamps have second resolution
  auto put =
      Cal("PUT", "/calendars/events/appointments/" + id,
          R"({"title":"Checkup","startTime":"2031-03-10T10:00:00+05:30","address":"Room 4"})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto p = Json(put.body);
  EXPECT_STREQ(p["title"].GetString(), "Checkup");
  EXPECT_STREQ(p["endTime"].GetString(), "2031-03-10T10:30:00+05:30") << "moving keeps length";
  EXPECT_STREQ(p["address"].GetString(), "Room 4");
  EXPECT_STREQ(p["meetingLocationType"].GetString(), "custom") << "address defaults it to custom";
  auto after = Json(Cal("GET", "/calendars/events/appointments/" + id).body);
  EXPECT_GT(std::string(after["event"]["dateUpdated"].GetString()), added);
  EXPECT_EQ(after["event"]["dateAdded"].GetString(), added);

  auto del = Cal("DELETE", "/calendars/events/" + id, "{}");
  EXPECT_EQ(del.status, 201) << del.body;
  EXPECT_EQ(del.body, R"({"succeeded":true})");
  EXPECT_EQ(Cal("GET", "/calendars/events/appointments/" + id).status, 400) << "gone";
  EXPECT_EQ(Cal("DELETE", "/calendars/events/" + id, "{}").status, 400);
}

TEST_F(EmulatorCalendars, CreateAndEditValidateLikeGhl) {
  auto empty = Cal("POST", "/calendars/events/appointments", "{}");
  ASSERT_EQ(empty.status, 422) << empty.body;
  auto m = Messages(empty.body);
  for (const char* f : {"calendarId", "locationId", "contactId", "startTime"}) {
    EXPECT_TRUE(Has(m, std::string(f) + " should not be empty")) << empty.body;
  }
  EXPECT_NE(empty.body.find(R"("error":"Unprocessable Entity")"), std::string::npos);

  auto bad = Cal("POST", "/calendars/events/appointments",
                 Booking("tomorrow", R"("appointmentStatus":"maybe","meetingLocationType":"moon",)"
                                     R"("toNotify":"no","colour":"red")"));
  ASSERT_EQ(bad.status, 422) << bad.body;
  m = Messages(bad.body);
  EXPECT_TRUE(Has(m, "startTime must be a valid ISO 8601 date string")) << bad.body;
  EXPECT_TRUE(Has(m,
                  "appointmentStatus must be one of the following values: new, confirmed, "
                  "cancelled, showed, noshow, invalid"))
      << bad.body;
  EXPECT_TRUE(Has(m,
                  "meetingLocationType must be one of the following values: custom, zoom, "
                  "gmeet, phone, address, ms_teams, google"))
      << bad.body;
  EXPECT_TRUE(Has(m, "toNotify must be a boolean value")) << bad.body;
  EXPECT_TRUE(Has(m, "property colour should not exist")) << bad.body;

  auto backwards = Cal("POST", "/calendars/events/appointments",
                       Booking("2031-03-11T09:00:00Z", R"("endTime":"2031-03-11T08:00:00Z")"));
  EXPECT_EQ(backwards.status, 422) << backwards.body;

  auto no_contact = Cal("POST", "/calendars/events/appointments",
                        R"({"calendarId":")" + *calendar_ + R"(","locationId":")" + Loc() +
                            R"(","contactId":"nope","startTime":"2031-03-11T09:00:00Z"})");
  EXPECT_EQ(no_contact.status, 400) << no_contact.body;
  auto no_calendar = Cal("POST", "/calendars/events/appointments",
                         R"({"calendarId":"nope","locationId":")" + Loc() + R"(","contactId":")" +
                             *contact_ + R"(","startTime":"2031-03-11T09:00:00Z"})");
  EXPECT_EQ(no_calendar.status, 400) << no_calendar.body;
  auto no_user = Cal("POST", "/calendars/events/appointments",
                     Booking("2031-03-11T09:00:00Z", R"("assignedUserId":"nobody")"));
  EXPECT_EQ(no_user.status, 400) << no_user.body;

  // The other location's token may not book here, nor see or change this location's events.
  auto foreign =
      Cal("POST", "/calendars/events/appointments", Booking("2031-03-11T09:00:00Z"), *other_token_);
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  const std::string id = Book("2031-03-11T09:00:00Z", R"("notes":"bring forms")");
  EXPECT_STREQ(
      Json(Cal("GET", "/calendars/events/appointments/" + id).body)["event"]["notes"].GetString(),
      "bring forms");
  EXPECT_EQ(Cal("GET", "/calendars/events/appointments/" + id, "", *other_token_).status, 403);
  EXPECT_EQ(Cal("PUT", "/calendars/events/appointments/" + id, "{}", *other_token_).status, 403);
  EXPECT_EQ(Cal("DELETE", "/calendars/events/" + id, "{}", *other_token_).status, 403);

  // AppointmentEditSchema has no locationId or contactId; DeleteAppointmentSchema nothing.
  auto edit = Cal("PUT", "/calendars/events/appointments/" + id,
                  R"({"locationId":"x","contactId":"y","appointmentStatus":"showed"})");
  ASSERT_EQ(edit.status, 422) << edit.body;
  m = Messages(edit.body);
  EXPECT_TRUE(Has(m, "property locationId should not exist"));
  EXPECT_TRUE(Has(m, "property contactId should not exist"));
  EXPECT_STREQ(
      Json(Cal("GET", "/calendars/events/appointments/" + id).body)["event"]["appointmentStatus"]
          .GetString(),
      "confirmed")
      << "a refused edit changes nothing";
  EXPECT_EQ(Cal("DELETE", "/calendars/events/" + id, R"({"x":1})").status, 422);
}

TEST_F(EmulatorCalendars, OnlyFreeSlotsAreBookableUnlessValidationIsSkipped) {
  const std::string first = Book("2031-03-12T09:00:00Z");
  auto clash = Cal("POST", "/calendars/events/appointments",
                   Booking("2031-03-12T08:30:00Z", R"("endTime":"2031-03-12T09:30:00Z")"));
  EXPECT_EQ(clash.status, 400);
  EXPECT_NE(clash.body.find("The slot you have selected is no longer available."),
            std::string::npos)
      << clash.body;
  EXPECT_EQ(Cal("POST", "/calendars/events/appointments", Booking("2031-03-12T09:10:00Z")).status,
            400)
      << "off the 30 min slot grid";
  EXPECT_EQ(Cal("POST", "/calendars/events/appointments", Booking("2020-01-01T09:00:00Z")).status,
            400)
      << "in the past";
  Book("2020-01-01T09:00:00Z", R"("ignoreDateRange":true)");
  Book("2031-03-12T16:10:00Z", R"("ignoreFreeSlotValidation":true)");
  // A long booking is fine when its start is on the grid and its span is free.
  Book("2031-03-12T10:00:00Z", R"("endTime":"2031-03-12T13:30:00Z")");
  // Cancelling frees the slot.
  ASSERT_EQ(
      Cal("PUT", "/calendars/events/appointments/" + first, R"({"appointmentStatus":"cancelled"})")
          .status,
      200);
  Book("2031-03-12T09:00:00Z", R"("ignoreFreeSlotValidation":false)");
  // Moving onto a taken slot is refused too; staying put is not a clash with itself.
  const std::string later = Book("2031-03-12T14:00:00Z");
  EXPECT_EQ(Cal("PUT", "/calendars/events/appointments/" + later,
                R"({"startTime":"2031-03-12T13:00:00Z"})")
                .status,
            400);
  EXPECT_EQ(Cal("PUT", "/calendars/events/appointments/" + later,
                R"({"startTime":"2031-03-12T14:00:00Z","title":"Same slot"})")
                .status,
            200);
}

TEST_F(EmulatorCalendars, EventsAreTheAppointmentsOverlappingTheRange) {
  const std::string a = Book("2031-03-20T10:00:00Z");
  const std::string b = Book("2031-03-20T12:00:00Z", R"("assignedUserId":")" + *user_ + "\"");
  const std::string c = Book("2031-03-20T15:00:00Z");
  Book("2031-03-21T10:00:00Z");
  auto events = [&](const std::string& selector, const char* from, const char* to,
                    const std::string& token = "") {
    auto r = Cal("GET",
                 "/calendars/events?locationId=" + Loc() + "&" + selector + "&startTime=" +
                     std::to_string(Ms(from)) + "&endTime=" + std::to_string(Ms(to)),
                 "", token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    auto d = Json(r.body);
    if (!d.IsObject() || !d.HasMember("events")) return ids;
    EXPECT_EQ(d.MemberCount(), 1u) << "no pagination fields";
    for (const auto& e : d["events"].GetArray()) {
      for (const char* f :
           {"id", "title", "calendarId", "locationId", "contactId", "appointmentStatus", "users",
            "startTime", "endTime", "dateAdded", "dateUpdated"}) {
        EXPECT_TRUE(e.HasMember(f)) << f;
      }
      ids.emplace_back(e["id"].GetString());
    }
    return ids;
  };
  const std::string cal = "calendarId=" + *calendar_;
  // From the middle of a to the start of b (inclusive): both, in start order.
  EXPECT_EQ(events(cal, "2031-03-20T10:15", "2031-03-20T12:00"), (std::vector{a, b}));
  // a ends at 10:30, so a range starting there misses it.
  EXPECT_TRUE(events(cal, "2031-03-20T10:30", "2031-03-20T11:59").empty());
  EXPECT_EQ(events(cal, "2031-03-20T00:00", "2031-03-20T23:59"), (std::vector{a, b, c}));
  EXPECT_EQ(events("userId=" + *user_, "2031-03-20T00:00", "2031-03-20T23:59"), std::vector{b});
  EXPECT_TRUE(events("groupId=nogroup", "2031-03-20T00:00", "2031-03-20T23:59").empty());

  const std::string base = "/calendars/events?locationId=" + Loc();
  auto none = Cal("GET", base + "&startTime=1&endTime=2");
  EXPECT_EQ(none.status, 422);
  EXPECT_TRUE(Has(Messages(none.body), "Either of calendarId, userId or groupId is required"));
  EXPECT_EQ(Cal("GET", base + "&" + cal + "&userId=" + *user_ + "&startTime=1&endTime=2").status,
            422)
      << "exactly one selector";
  auto times = Cal("GET", base + "&" + cal + "&startTime=2031-03-20&endTime=");
  EXPECT_EQ(times.status, 422);
  EXPECT_TRUE(Has(Messages(times.body), "startTime must be a number string")) << times.body;
  EXPECT_TRUE(Has(Messages(times.body), "endTime must be a number string")) << times.body;
  EXPECT_EQ(Cal("GET", "/calendars/events?" + cal + "&startTime=1&endTime=2").status, 422)
      << "locationId is required";
  EXPECT_EQ(Cal("GET", base + "&" + cal + "&startTime=1&endTime=2", "", *other_token_).status, 403);
}

TEST_F(EmulatorCalendars, ChangesFireAppointmentWebhooks) {
  const uint64_t next = NextEvent();
  const std::string id =
      Book("2031-03-25T09:00:00-04:00", R"("title":"Intro","assignedUserId":")" + *user_ + "\"");
  ASSERT_EQ(Cal("PUT", "/calendars/events/appointments/" + id, R"({"appointmentStatus":"showed"})")
                .status,
            200);
  ASSERT_EQ(Cal("DELETE", "/calendars/events/" + id, "{}").status, 201);
  auto events = Json(emu_->Admin("GET", "/webhooks?since=" + std::to_string(next)).body);
  std::vector<std::string> types;
  for (const auto& e : events["events"].GetArray()) {
    types.emplace_back(e["type"].GetString());
    EXPECT_STREQ(e["locationId"].GetString(), Loc().c_str());
    EXPECT_FALSE(e.HasMember("id")) << "the fields sit under `appointment`";
    const auto& appt = e["appointment"];
    EXPECT_EQ(appt["id"].GetString(), id);
    EXPECT_EQ(appt["calendarId"].GetString(), *calendar_);
    EXPECT_EQ(appt["contactId"].GetString(), *contact_);
    EXPECT_EQ(appt["assignedUserId"].GetString(), *user_);
    EXPECT_STREQ(appt["title"].GetString(), "Intro");
    EXPECT_STREQ(appt["startTime"].GetString(), "2031-03-25T09:00:00-04:00");
    EXPECT_STREQ(appt["endTime"].GetString(), "2031-03-25T09:30:00-04:00");
    EXPECT_TRUE(appt["users"].IsArray());
    EXPECT_TRUE(appt.HasMember("source"));
    EXPECT_TRUE(appt.HasMember("dateAdded"));
    EXPECT_TRUE(appt.HasMember("dateUpdated"));
  }
  ASSERT_EQ(types, (std::vector<std::string>{"AppointmentCreate", "AppointmentUpdate",
                                             "AppointmentDelete"}));
  const auto& list = events["events"];
  EXPECT_STREQ(list[0]["appointment"]["appointmentStatus"].GetString(), "confirmed");
  EXPECT_STREQ(list[1]["appointment"]["appointmentStatus"].GetString(), "showed");
  EXPECT_EQ(events["next"].GetUint64(), next + 3);
}

}  // namespace
}  // namespace ghl
