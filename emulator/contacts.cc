// Contacts (apps/contacts.json, Version 2021-07-28; FACTS.md §3).
#include <algorithm>
#include <limits>
#include <set>

#include "emulator/emulator.h"
#include "emulator/search.h"

namespace ghl::emulator {
namespace {

constexpr int kMaxSearchPageLimit = 500;
constexpr int kMaxPagedResults = 10'000;

const std::vector<std::string>& StringFields() {
  static const std::vector<std::string> f = {
      "firstName", "lastName",    "name",       "email",   "phone",      "address1",
      "city",      "state",       "postalCode", "website", "timezone",   "source",
      "country",   "companyName", "assignedTo", "gender",  "dateOfBirth"};
  return f;
}

// Fields CreateContactDto accepts (UpsertContactDto adds createNewIfDuplicateAllowed).
bool KnownWriteField(const std::string& k) {
  static const std::set<std::string> others = {"locationId",
                                               "dnd",
                                               "dndSettings",
                                               "inboundDndSettings",
                                               "tags",
                                               "customFields",
                                               "createNewIfDuplicateAllowed"};
  return others.count(k) > 0 ||
         std::find(StringFields().begin(), StringFields().end(), k) != StringFields().end();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Finds a custom field definition of `model` in the location by id or by key (with or
// without the "contact." prefix).
const Record* FindCustomField(World& w, const std::string& location, const std::string& model,
                              const std::string& id, const std::string& key) {
  for (const auto& [fid, rec] : w.custom_fields.all()) {
    if (rec.location_id != location || GetString(rec.doc, "model") != model) continue;
    if (!id.empty() && fid == id) return &rec;
    const auto fk = GetString(rec.doc, "fieldKey").value_or("");
    if (!key.empty() && (fk == key || fk == model + "." + key)) return &rec;
  }
  return nullptr;
}

// Applies the writable fields of `body` to `contact`. Returns the 422 messages, if any.
std::vector<std::string> ApplyFields(Emulator& emu, const std::string& location, Json& contact,
                                     const Json& body, Alloc& a, bool is_update) {
  std::vector<std::string> errors;
  for (const auto& m : body.GetObject()) {
    const std::string k(m.name.GetString());
    // UpdateContactDto has neither locationId nor gender (live GHL refuses gender on
    // update too); companyName it lacks as well, but GHL accepts it.
    if (!KnownWriteField(k) || (is_update && (k == "locationId" || k == "gender"))) {
      errors.push_back("property " + k + " should not exist");
    }
  }
  for (const auto& f : StringFields()) {
    auto it = body.FindMember(f.c_str());
    if (it == body.MemberEnd()) continue;
    if (it->value.IsNull()) {
      Remove(contact, f);
      continue;
    }
    if (!it->value.IsString()) {
      errors.push_back(f + " must be a string");
      continue;
    }
    std::string v(it->value.GetString(), it->value.GetStringLength());
    if (f == "email" && !v.empty() &&
        (v.find('@') == std::string::npos || v.find(' ') != std::string::npos)) {
      errors.push_back("email must be an email");
      continue;
    }
    if (v.empty()) {
      Remove(contact, f);
    } else {
      SetString(contact, f, v, a);
    }
  }
  if (auto it = body.FindMember("dnd"); it != body.MemberEnd()) {
    if (it->value.IsBool()) {
      Set(contact, "dnd", Json(it->value.GetBool()), a);
    } else {
      errors.push_back("dnd must be a boolean value");
    }
  }
  for (const char* obj : {"dndSettings", "inboundDndSettings"}) {
    if (auto it = body.FindMember(obj); it != body.MemberEnd()) {
      if (it->value.IsObject()) {
        Set(contact, obj, Json(it->value, a), a);
      } else {
        errors.push_back(std::string(obj) + " must be an object");
      }
    }
  }
  if (auto it = body.FindMember("tags"); it != body.MemberEnd()) {
    if (!it->value.IsArray()) {
      errors.push_back("tags must be an array");
    } else {
      Json tags(rapidjson::kArrayType);
      std::set<std::string> seen;
      for (const auto& t : it->value.GetArray()) {
        if (!t.IsString()) {
          errors.push_back("each value in tags must be a string");
          break;
        }
        if (seen.insert(t.GetString()).second) tags.PushBack(Json(t, a), a);
      }
      Set(contact, "tags", std::move(tags), a);
    }
  }
  if (auto it = body.FindMember("customFields"); it != body.MemberEnd()) {
    if (!it->value.IsArray()) {
      errors.push_back("customFields must be an array");
    } else {
      if (!contact.HasMember("customFields")) {
        contact.AddMember("customFields", Json(rapidjson::kArrayType), a);
      }
      Json& list = contact["customFields"];
      for (const auto& cf : it->value.GetArray()) {
        const auto id = GetString(cf, "id").value_or("");
        const auto key = GetString(cf, "key").value_or("");
        const Record* def = FindCustomField(emu.world(), location, "contact", id, key);
        if (def == nullptr) {
          errors.push_back("customFields: no contact custom field with " +
                           (id.empty() ? "key " + key : "id " + id) + " in this location");
          continue;
        }
        auto value = cf.FindMember("field_value");
        if (value == cf.MemberEnd()) value = cf.FindMember("value");
        // Replace, or remove when the new value is empty.
        for (auto e = list.Begin(); e != list.End(); ++e) {
          if (GetString(*e, "id") == def->id) {
            list.Erase(e);
            break;
          }
        }
        const bool empty = value == cf.MemberEnd() || value->value.IsNull() ||
                           (value->value.IsString() && value->value.GetStringLength() == 0);
        if (!empty) {
          Json item(rapidjson::kObjectType);
          item.AddMember("id", Str(def->id, a), a);
          item.AddMember("value", Json(value->value, a), a);
          list.PushBack(item, a);
        }
      }
    }
  }
  // Derived fields, as GHL keeps them.
  const auto first = GetString(contact, "firstName").value_or("");
  const auto last = GetString(contact, "lastName").value_or("");
  for (auto [field, value] : {std::pair<const char*, std::string>{"firstNameLowerCase", first},
                              {"lastNameLowerCase", last}}) {
    if (value.empty()) {
      Remove(contact, field);
    } else {
      SetString(contact, field, Lower(value), a);
    }
  }
  std::string full = first + (first.empty() || last.empty() ? "" : " ") + last;
  if (full.empty()) {
    Remove(contact, "fullNameLowerCase");
  } else {
    SetString(contact, "fullNameLowerCase", Lower(full), a);
    if (!body.HasMember("name")) SetString(contact, "name", full, a);
  }
  if (auto email = GetString(contact, "email")) {
    SetString(contact, "emailLowerCase", Lower(*email), a);
  } else {
    Remove(contact, "emailLowerCase");
  }
  return errors;
}

// The other contact in `location` with the same email (case-insensitive) or phone.
const Record* FindDuplicate(World& w, const std::string& location, const std::string& field,
                            const std::string& value, const std::string& except_id = "") {
  if (value.empty()) return nullptr;
  const bool email = field == "email";
  // Indexed (an exact match per location), so bulk creates stay linear.
  for (const auto& id : w.contacts.FindBy(email ? "emailLowerCase" : "phone", location,
                                          email ? Lower(value) : value)) {
    if (id != except_id) return w.contacts.Find(id);
  }
  return nullptr;
}

JsonDoc WebhookPayload(const Record& r) {
  static const char* kFields[] = {
      "id",          "address1", "city",  "companyName", "country",    "source",      "dateAdded",
      "dateOfBirth", "dnd",      "email", "name",        "firstName",  "lastName",    "phone",
      "postalCode",  "state",    "tags",  "website",     "assignedTo", "customFields"};
  JsonDoc p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  for (const char* f : kFields) {
    if (auto it = r.doc.FindMember(f); it != r.doc.MemberEnd())
      p.AddMember(Json(f, a), Json(it->value, a), a);
  }
  if (!p.HasMember("tags")) p.AddMember("tags", Json(rapidjson::kArrayType), a);
  if (!p.HasMember("customFields")) p.AddMember("customFields", Json(rapidjson::kArrayType), a);
  p.AddMember("attachments", Json(rapidjson::kArrayType), a);
  return p;
}

Reply WithContact(int status, const Record& r, const char* extra_key = nullptr, bool extra = false,
                  const std::string& trace_id = "") {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  if (extra_key != nullptr) d.AddMember(Json(extra_key, a), Json(extra), a);
  d.AddMember("contact", Json(r.doc, a), a);
  if (!trace_id.empty()) d.AddMember("traceId", Str(trace_id, a), a);
  return JsonReply(status, d);
}

Record NewContact(Emulator& emu, const std::string& location, int64_t now) {
  Record r;
  r.id = emu.NewId();
  r.location_id = location;
  r.added_ms = r.updated_ms = now;
  r.doc.SetObject();
  auto& a = r.doc.GetAllocator();
  r.doc.AddMember("id", Str(r.id, a), a);
  r.doc.AddMember("locationId", Str(location, a), a);
  r.doc.AddMember("type", "lead", a);
  r.doc.AddMember("dnd", false, a);
  r.doc.AddMember("tags", Json(rapidjson::kArrayType), a);
  r.doc.AddMember("customFields", Json(rapidjson::kArrayType), a);
  r.doc.AddMember("dateAdded", Str(IsoTime(now), a), a);
  r.doc.AddMember("dateUpdated", Str(IsoTime(now), a), a);
  return r;
}

// Fires ContactUpdate, and ContactTagUpdate / ContactDndUpdate when those changed.
void EmitChanges(Emulator& emu, const Record& r, const JsonDoc& before) {
  auto changed = [&](const char* f) {
    auto x = before.FindMember(f);
    auto y = r.doc.FindMember(f);
    const bool hx = x != before.MemberEnd(), hy = y != r.doc.MemberEnd();
    return hx != hy || (hx && x->value != y->value);
  };
  emu.Emit("ContactUpdate", r.location_id, WebhookPayload(r));
  if (changed("tags")) emu.Emit("ContactTagUpdate", r.location_id, WebhookPayload(r));
  if (changed("dnd") || changed("dndSettings")) {
    JsonDoc p = WebhookPayload(r);
    if (auto it = r.doc.FindMember("dndSettings"); it != r.doc.MemberEnd()) {
      p.AddMember("dndSettings", Json(it->value, p.GetAllocator()), p.GetAllocator());
    }
    emu.Emit("ContactDndUpdate", r.location_id, std::move(p));
  }
}

// Applies an update; true when something changed (then dateUpdated moves and webhooks fire).
bool UpdateContact(Emulator& emu, Record& r, const Json& body, int64_t now,
                   std::vector<std::string>* errors) {
  JsonDoc before = Copy(r.doc);
  JsonDoc scratch = Copy(r.doc);
  *errors = ApplyFields(emu, r.location_id, scratch, body, scratch.GetAllocator(), true);
  if (!errors->empty()) return false;
  SetString(scratch, "dateUpdated", GetString(before, "dateUpdated").value_or(""),
            scratch.GetAllocator());
  if (scratch == before) return false;
  r.doc = std::move(scratch);
  r.updated_ms = now;
  SetString(r.doc, "dateUpdated", IsoTime(now), r.doc.GetAllocator());
  emu.world().contacts.Touched(r, now, emu.options().search_lag_ms);
  EmitChanges(emu, r, before);
  return true;
}

Reply DuplicateRefused(const Record& existing, const std::string& field) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("statusCode", 400, a);
  d.AddMember("message", "This location does not allow duplicated contacts.", a);
  Json meta(rapidjson::kObjectType);
  meta.AddMember("contactName", Str(GetString(existing.doc, "name").value_or(""), a), a);
  meta.AddMember("contactId", Str(existing.id, a), a);
  meta.AddMember("matchingField", Str(field, a), a);
  d.AddMember("meta", meta, a);
  return JsonReply(400, d);
}

Reply Create(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  const auto location = GetString(*body, "locationId").value_or("");
  if (auto denied = c.CheckLocation(location)) return *denied;
  Emulator& emu = c.emu;
  const Location& loc = *emu.world().FindLocation(location);
  Record r = NewContact(emu, location, c.now_ms);
  auto errors = ApplyFields(emu, location, r.doc, *body, r.doc.GetAllocator(), false);
  if (!errors.empty()) return Unprocessable(errors);
  if (!loc.allow_duplicate_contact) {
    for (const auto& field : loc.duplicate_priority) {
      if (auto* dup = FindDuplicate(emu.world(), location, field,
                                    GetString(r.doc, field.c_str()).value_or(""))) {
        return DuplicateRefused(*dup, field);
      }
    }
  }
  Record& stored = emu.world().contacts.Put(std::move(r), c.now_ms, emu.options().search_lag_ms);
  emu.Emit("ContactCreate", location, WebhookPayload(stored));
  return WithContact(201, stored);
}

Reply Get(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().contacts, "contactId", "Contact", &err);
  if (!r) return *err;
  return WithContact(200, *r);
}

Reply Update(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().contacts, "contactId", "Contact", &err);
  if (!r) return *err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  const Location& loc = *c.emu.world().FindLocation(r->location_id);
  if (!loc.allow_duplicate_contact) {
    for (const auto& field : loc.duplicate_priority) {
      const auto v = GetString(*body, field.c_str());
      if (const Record* dup =
              v ? FindDuplicate(c.emu.world(), r->location_id, field, *v, r->id) : nullptr) {
        return DuplicateRefused(*dup, field);
      }
    }
  }
  std::vector<std::string> errors;
  UpdateContact(c.emu, *r, *body, c.now_ms, &errors);
  if (!errors.empty()) return Unprocessable(errors);
  return WithContact(200, *r, "succeded", true);
}

Reply Delete(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().contacts, "contactId", "Contact", &err);
  if (!r) return *err;
  JsonDoc payload = WebhookPayload(*r);
  const std::string location = r->location_id, id = r->id;
  c.emu.world().contacts.Erase(id, c.now_ms, c.emu.options().search_lag_ms);
  c.emu.Emit("ContactDelete", location, std::move(payload));
  return Succeded();
}

Reply Upsert(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  const auto location = GetString(*body, "locationId").value_or("");
  if (auto denied = c.CheckLocation(location)) return *denied;
  Emulator& emu = c.emu;
  World& w = emu.world();
  const Location& loc = *w.FindLocation(location);
  const bool force_new =
      loc.allow_duplicate_contact && GetBool(*body, "createNewIfDuplicateAllowed").value_or(false);

  Record* match = nullptr;
  std::string matched_field;
  if (!force_new) {
    for (const auto& field : loc.duplicate_priority) {
      const auto v = GetString(*body, field.c_str());
      if (!v) continue;
      if (const Record* dup = FindDuplicate(w, location, field, *v)) {
        match = w.contacts.Find(dup->id);
        matched_field = field;
        break;
      }
    }
  }
  JsonDoc changes = Copy(*body);
  Remove(changes, "locationId");
  Remove(changes, "createNewIfDuplicateAllowed");
  if (match != nullptr) {
    // A second field that belongs to another contact is ignored, to avoid a duplicate.
    for (const auto& field : loc.duplicate_priority) {
      if (field == matched_field) continue;
      const auto v = GetString(changes, field.c_str());
      if (v && FindDuplicate(w, location, field, *v, match->id)) Remove(changes, field);
    }
    std::vector<std::string> errors;
    UpdateContact(emu, *match, changes, c.now_ms, &errors);
    if (!errors.empty()) return Unprocessable(errors);
    return WithContact(200, *match, "new", false, c.trace_id);
  }
  Record r = NewContact(emu, location, c.now_ms);
  auto errors = ApplyFields(emu, location, r.doc, changes, r.doc.GetAllocator(), true);
  if (!errors.empty()) return Unprocessable(errors);
  Record& stored = w.contacts.Put(std::move(r), c.now_ms, emu.options().search_lag_ms);
  emu.Emit("ContactCreate", location, WebhookPayload(stored));
  return WithContact(200, stored, "new", true, c.trace_id);
}

Reply Tags(Call& c, bool add) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().contacts, "contactId", "Contact", &err);
  if (!r) return *err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  const Json* tags = GetArray(*body, "tags");
  if (tags == nullptr) return Unprocessable({"tags must be an array"});
  std::vector<std::string> current;
  if (const Json* have = GetArray(r->doc, "tags")) {
    for (const auto& t : have->GetArray()) current.emplace_back(t.GetString());
  }
  for (const auto& t : tags->GetArray()) {
    if (!t.IsString()) return Unprocessable({"each value in tags must be a string"});
    const std::string tag = t.GetString();
    auto it = std::find(current.begin(), current.end(), tag);
    if (add && it == current.end()) current.push_back(tag);
    if (!add && it != current.end()) current.erase(it);
  }
  JsonDoc change(rapidjson::kObjectType);
  Json arr(rapidjson::kArrayType);
  for (const auto& t : current) arr.PushBack(Str(t, change.GetAllocator()), change.GetAllocator());
  change.AddMember("tags", arr, change.GetAllocator());
  std::vector<std::string> errors;
  UpdateContact(c.emu, *r, change, c.now_ms, &errors);
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("tags", Json(r->doc["tags"], d.GetAllocator()), d.GetAllocator());
  return JsonReply(add ? 201 : 200, d);
}

Reply Search(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  const auto location = GetString(*body, "locationId").value_or("");
  if (auto denied = c.CheckLocation(location)) return *denied;
  std::vector<std::string> errors;
  const auto page_limit = GetNumber(*body, "pageLimit");
  const auto page = GetNumber(*body, "page");
  const Json* after = GetArray(*body, "searchAfter");
  if (!page_limit) errors.push_back("pageLimit must be a number");
  if (page_limit && *page_limit < 1) errors.push_back("pageLimit must not be less than 1");
  if (page_limit && *page_limit > kMaxSearchPageLimit) {
    errors.push_back("pageLimit must not be greater than 500");
  }
  if (page && *page < 1) errors.push_back("page must not be less than 1");
  if (page && after) errors.push_back("page and searchAfter can not be used together");
  if (auto q = GetString(*body, "query"); q && q->size() > 75) {
    errors.push_back("query must be shorter than or equal to 75 characters");
  }
  Filter filter;
  std::vector<SortKey> sort;
  filter.Compile(body->HasMember("filters") ? &(*body)["filters"] : nullptr, &errors);
  CompileSort(body->HasMember("sort") ? &(*body)["sort"] : nullptr, &sort, &errors);
  if (after && after->Size() != sort.size() + 1) {
    errors.push_back("searchAfter must be the searchAfter value of a result of the same sort (" +
                     std::to_string(sort.size() + 1) + " values)");
  }
  if (!errors.empty()) return Unprocessable(errors);
  const int limit = static_cast<int>(*page_limit);
  const int page_no = static_cast<int>(page.value_or(1));
  if (!after && page_no * limit > kMaxPagedResults) {
    return BadRequest("page * pageLimit exceeds 10000 results; use searchAfter to page further");
  }
  const std::string query = Lower(GetString(*body, "query").value_or(""));

  const auto matches = [&](const Json& doc) {
    if (GetString(doc, "locationId") != location || !filter.Matches(doc)) return false;
    if (query.empty()) return true;
    for (const char* f : {"fullNameLowerCase", "emailLowerCase", "phone", "companyName"}) {
      if (Lower(GetString(doc, f).value_or("")).find(query) != std::string::npos) return true;
    }
    return false;
  };
  Collection& contacts = c.emu.world().contacts;
  std::vector<const Json*> page_hits;
  size_t total = 0;
  const Collection::ByUpdated* by_updated = sort.size() == 1 && sort[0].field == "dateUpdated"
                                                ? contacts.SearchViewByUpdated(c.now_ms)
                                                : nullptr;
  if (by_updated != nullptr && (after || page_no == 1)) {
    // Sorted on dateUpdated alone (the way a poll reads): walk the index from the cursor
    // and read one page. The total is counted once per view and filter.
    auto take = [&](auto begin, auto end) {
      for (auto it = begin; it != end && page_hits.size() < static_cast<size_t>(limit); ++it) {
        const Json& doc = *it->second;
        if (after && !AfterCursor(doc, *after, sort)) continue;
        if (matches(doc)) page_hits.push_back(&doc);
      }
    };
    // Where the cursor and a dateUpdated range (a poll's) are in the index; AfterCursor
    // and the filter above still decide.
    const Json* at = after != nullptr && (*after)[0].IsInt64() ? &(*after)[0] : nullptr;
    const auto since = filter.LowerBound("dateUpdated");
    const auto first =
        since ? by_updated->lower_bound({*since, std::string()}) : by_updated->begin();
    if (!sort[0].descending) {
      auto begin = first;
      if (at != nullptr && (*after)[1].IsString()) {
        auto next = by_updated->upper_bound({at->GetInt64(), (*after)[1].GetString()});
        if (next == by_updated->end() ||
            (begin != by_updated->end() && begin->first < next->first)) {
          begin = next;
        }
      }
      take(begin, by_updated->end());
    } else {
      // Newest first, but SortLess breaks ties by id ascending in either direction: walk
      // the runs of equal dateUpdated from the newest, each in index order.
      auto hi = by_updated->end();
      if (at != nullptr && at->GetInt64() < std::numeric_limits<int64_t>::max()) {
        hi = by_updated->lower_bound({at->GetInt64() + 1, std::string()});
      }
      while (hi != by_updated->begin() && page_hits.size() < static_cast<size_t>(limit)) {
        auto lo = by_updated->lower_bound({std::prev(hi)->first.first, std::string()});
        take(lo, hi);
        if (since && lo->first.first <= *since) break;  // older ones cannot match
        hi = lo;
      }
    }
    std::string key = location + '\0' + query + '\0';
    if (body->HasMember("filters")) key += Dump((*body)["filters"]);
    if (auto cached = contacts.CachedCount(key)) {
      total = *cached;
    } else {
      for (auto it = first; it != by_updated->end(); ++it) total += matches(*it->second) ? 1 : 0;
      contacts.RememberCount(key, total);
    }
  } else {
    std::vector<const Json*> hits;
    for (const auto& [id, doc] : contacts.SearchView(c.now_ms)) {
      if (matches(*doc)) hits.push_back(doc.get());
    }
    std::sort(hits.begin(), hits.end(),
              [&](const Json* a, const Json* b) { return SortLess(*a, *b, sort); });
    size_t start = 0;
    if (after) {
      while (start < hits.size() && !AfterCursor(*hits[start], *after, sort)) ++start;
    } else {
      start = static_cast<size_t>((page_no - 1) * limit);
    }
    for (size_t i = start; i < hits.size() && i < start + static_cast<size_t>(limit); ++i) {
      page_hits.push_back(hits[i]);
    }
    total = hits.size();
  }
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  for (const Json* hit : page_hits) {
    Json item(*hit, a);
    JsonDoc cursor = CursorOf(*hit, sort);
    item.AddMember("searchAfter", Json(cursor, a), a);
    list.PushBack(item, a);
  }
  d.AddMember("contacts", list, a);
  d.AddMember("total", static_cast<uint64_t>(total), a);
  return JsonReply(200, d);
}

Reply Duplicate(Call& c) {
  const auto location = c.Query("locationId").value_or("");
  if (auto denied = c.CheckLocation(location)) return *denied;
  const Location& loc = *c.emu.world().FindLocation(location);
  const Record* found = nullptr;
  for (const auto& field : loc.duplicate_priority) {
    const auto v = c.Query(field == "phone" ? "number" : field);
    if (v && (found = FindDuplicate(c.emu.world(), location, field, *v))) break;
  }
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("contact", found ? Json(found->doc, a) : Json(), a);
  return JsonReply(200, d);
}

// The deprecated GET /contacts/ list: oldest first, startAfter/startAfterId paging.
Reply List(Call& c) {
  const auto location = c.Query("locationId").value_or("");
  if (auto denied = c.CheckLocation(location)) return *denied;
  auto whole = [](const std::string& v, int64_t* out) {
    char* end = nullptr;
    *out = std::strtoll(v.c_str(), &end, 10);
    return !v.empty() && *end == '\0';
  };
  int64_t limit = 20, start_after = 0;
  std::vector<std::string> errors;
  if (auto l = c.Query("limit")) {
    if (!whole(*l, &limit)) {
      errors.push_back("limit must be a number conforming to the specified constraints");
    } else if (limit < 1) {
      errors.push_back("limit must not be less than 1");
    } else if (limit > 100) {
      errors.push_back("limit must not be greater than 100");
    }
  }
  if (auto sa = c.Query("startAfter"); sa && !whole(*sa, &start_after)) {
    errors.push_back("startAfter must be a number conforming to the specified constraints");
  }
  if (!errors.empty()) return Unprocessable(errors);
  const std::string start_after_id = c.Query("startAfterId").value_or("");
  const std::string query = Lower(c.Query("query").value_or(""));
  std::vector<const Json*> hits;
  for (const auto& [id, doc] : c.emu.world().contacts.SearchView(c.now_ms)) {
    if (GetString(*doc, "locationId") != location) continue;
    if (!query.empty() && Lower(GetString(*doc, "fullNameLowerCase").value_or("") + " " +
                                GetString(*doc, "emailLowerCase").value_or(""))
                                  .find(query) == std::string::npos) {
      continue;
    }
    hits.push_back(doc.get());
  }
  const std::vector<SortKey> order = {{"dateAdded", false}};
  std::sort(hits.begin(), hits.end(),
            [&](const Json* a, const Json* b) { return SortLess(*a, *b, order); });
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  const Json* last = nullptr;
  for (const Json* h : hits) {
    if (static_cast<int64_t>(list.Size()) >= limit) break;
    const int64_t added = ParseIsoTime(GetString(*h, "dateAdded").value_or("")).value_or(0);
    const auto id = GetString(*h, "id").value_or("");
    if (start_after > 0 &&
        (added < start_after || (added == start_after && id <= start_after_id))) {
      continue;
    }
    list.PushBack(Json(*h, a), a);
    last = h;
  }
  Json meta(rapidjson::kObjectType);
  meta.AddMember("total", static_cast<uint64_t>(hits.size()), a);
  if (last != nullptr && static_cast<int64_t>(list.Size()) == limit) {
    const int64_t added = ParseIsoTime(GetString(*last, "dateAdded").value_or("")).value_or(0);
    const auto id = GetString(*last, "id").value_or("");
    meta.AddMember("startAfterId", Str(id, a), a);
    meta.AddMember("startAfter", added, a);
    meta.AddMember("nextPageUrl",
                   Str("/contacts/?locationId=" + location +
                           "&startAfter=" + std::to_string(added) + "&startAfterId=" + id,
                       a),
                   a);
  } else {
    meta.AddMember("nextPageUrl", Json(), a);
  }
  const auto count = list.Size();
  d.AddMember("contacts", list, a);
  d.AddMember("count", count, a);
  d.AddMember("meta", meta, a);
  return JsonReply(200, d);
}

}  // namespace

void RegisterContactRoutes(Router& r) {
  using http::verb;
  const char* v = kVersion20210728;
  r.Add(verb::post, "/contacts/search", v, Access::kLocation, Search);
  r.Add(verb::get, "/contacts/search/duplicate", v, Access::kLocation, Duplicate);
  r.Add(verb::get, "/contacts/", v, Access::kLocation, List);
  r.Add(verb::post, "/contacts/", v, Access::kLocation, Create);
  r.Add(verb::post, "/contacts/upsert", v, Access::kLocation, Upsert);
  r.Add(verb::get, "/contacts/{contactId}", v, Access::kLocation, Get);
  r.Add(verb::put, "/contacts/{contactId}", v, Access::kLocation, Update);
  r.Add(verb::delete_, "/contacts/{contactId}", v, Access::kLocation, Delete);
  r.Add(verb::post, "/contacts/{contactId}/tags", v, Access::kLocation,
        [](Call& c) { return Tags(c, true); });
  r.Add(verb::delete_, "/contacts/{contactId}/tags", v, Access::kLocation,
        [](Call& c) { return Tags(c, false); });
}

}  // namespace ghl::emulator
