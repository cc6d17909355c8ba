// The default world: what `ghl-emulator` serves when started without a config.
#include "emulator/emulator.h"

namespace ghl::emulator {
namespace {

Record MakeRecord(Emulator& emu, const std::string& location, JsonDoc doc) {
  Record r;
  r.id = GetString(doc, "id").value_or("");
  r.location_id = location;
  r.added_ms = r.updated_ms = emu.NowMs();
  r.doc = std::move(doc);
  return r;
}

JsonDoc CustomField(Emulator& emu, const std::string& location, const std::string& model,
                    const std::string& name, const std::string& key, const std::string& type,
                    int position, std::vector<std::string> options = {}) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", Str(emu.NewId(), a), a);
  d.AddMember("name", Str(name, a), a);
  d.AddMember("fieldKey", Str(model + "." + key, a), a);
  d.AddMember("placeholder", "", a);
  d.AddMember("dataType", Str(type, a), a);
  d.AddMember("position", position, a);
  Json picklist(rapidjson::kArrayType);
  for (const auto& o : options) picklist.PushBack(Str(o, a), a);
  d.AddMember("picklistOptions", picklist, a);
  d.AddMember("picklistImageOptions", Json(rapidjson::kArrayType), a);
  d.AddMember("isAllowedCustomOption", false, a);
  d.AddMember("isMultiFileAllowed", false, a);
  d.AddMember("maxFileLimit", 0, a);
  d.AddMember("locationId", Str(location, a), a);
  d.AddMember("model", Str(model, a), a);
  return d;
}

}  // namespace

void Emulator::Reset() {
  World fresh;
  world_ = std::move(fresh);
  ids_.Reseed(options_.seed);
  limiter_.Reset();
  request_log_.clear();
  events_.clear();
}

std::string Emulator::SeedDefault() {
  Location loc;
  loc.id = NewId();
  loc.name = "Emulated Location";
  loc.company_id = NewId();
  const std::string token = "pit-" + ids_.Next(32);
  return SeedLocation(loc, token);
}

std::string Emulator::SeedLocation(Location loc, const std::string& token) {
  const int64_t now = NowMs();
  const int64_t lag = 0;  // seeded records are searchable at once
  if (loc.company_id.empty()) loc.company_id = NewId();
  Token t;
  t.location_id = loc.id;
  t.company_id = loc.company_id;
  world_.tokens[token] = t;
  world_.locations[loc.id] = loc;

  JsonDoc user(rapidjson::kObjectType);
  {
    auto& a = user.GetAllocator();
    user.AddMember("id", Str(NewId(), a), a);
    user.AddMember("name", "Emulator User", a);
    user.AddMember("firstName", "Emulator", a);
    user.AddMember("lastName", "User", a);
    user.AddMember("email", "user@example.com", a);
    Json ids(rapidjson::kArrayType);
    ids.PushBack(Str(loc.id, a), a);
    user.AddMember("locationIds", ids, a);
  }
  const std::string user_id = GetString(user, "id").value();
  world_.users.Put(MakeRecord(*this, loc.id, std::move(user)), now, lag);

  JsonDoc pipeline(rapidjson::kObjectType);
  {
    auto& a = pipeline.GetAllocator();
    pipeline.AddMember("id", Str(NewId(), a), a);
    pipeline.AddMember("name", "Sales Pipeline", a);
    Json stages(rapidjson::kArrayType);
    int position = 0;
    for (const char* name : {"New Lead", "Contacted", "Proposal Sent", "Closed"}) {
      Json st(rapidjson::kObjectType);
      st.AddMember("id", Str(NewId(), a), a);
      st.AddMember("name", Str(name, a), a);
      st.AddMember("position", position++, a);
      stages.PushBack(st, a);
    }
    pipeline.AddMember("stages", stages, a);
    pipeline.AddMember("showInFunnel", true, a);
    pipeline.AddMember("showInPieChart", true, a);
    pipeline.AddMember("locationId", Str(loc.id, a), a);
  }
  const std::string pipeline_id = GetString(pipeline, "id").value();
  world_.pipelines.Put(MakeRecord(*this, loc.id, std::move(pipeline)), now, lag);

  JsonDoc calendar(rapidjson::kObjectType);
  {
    auto& a = calendar.GetAllocator();
    calendar.AddMember("id", Str(NewId(), a), a);
    calendar.AddMember("name", "Consultations", a);
    calendar.AddMember("description", "Emulated calendar", a);
    calendar.AddMember("locationId", Str(loc.id, a), a);
    calendar.AddMember("isActive", true, a);
    calendar.AddMember("calendarType", "event", a);
    calendar.AddMember("slotDuration", 30, a);
  }
  const std::string calendar_id = GetString(calendar, "id").value();
  world_.calendars.Put(MakeRecord(*this, loc.id, std::move(calendar)), now, lag);

  std::string fields;
  int position = 0;
  for (auto& def : {CustomField(*this, loc.id, "contact", "Pincode", "pincode", "TEXT", position++),
                    CustomField(*this, loc.id, "contact", "Membership Level", "membership_level",
                                "SINGLE_OPTIONS", position++, {"Gold", "Silver", "Bronze"}),
                    CustomField(*this, loc.id, "contact", "Lifetime Value", "lifetime_value",
                                "MONETORY", position++),
                    CustomField(*this, loc.id, "opportunity", "Contract Months", "contract_months",
                                "NUMERICAL", position++)}) {
    fields += "\n    " + GetString(def, "fieldKey").value() + " = " + GetString(def, "id").value();
    world_.custom_fields.Put(MakeRecord(*this, loc.id, Copy(def)), now, lag);
  }

  return "location " + loc.id + " (company " + loc.company_id + ")\n  token (PIT): " + token +
         "\n  user: " + user_id + "\n  pipeline: " + pipeline_id + "\n  calendar: " + calendar_id +
         "\n  custom fields:" + fields + "\n";
}

}  // namespace ghl::emulator
