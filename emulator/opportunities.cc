// Opportunities and pipelines (apps/opportunities.json, Version 2021-07-28; FACTS.md §4).
//
// Records are stored as GET returns them (SearchOpportunitiesResponseSchema). Custom
// field values go in as [{id|key, field_value}] and come out as [{id, fieldValue}]. A
// change fires OpportunityUpdate plus the narrower Opportunity*Update events of the
// fields it touched; a write that changes nothing fires nothing and keeps updatedAt.
// Every operation of this spec declares 400 (not 404) for records that do not exist.
#include "emulator/opportunities.h"

#include <algorithm>
#include <set>

#include "emulator/emulator.h"

namespace ghl::emulator {
namespace {

bool IsStatus(std::string_view s) {
  return s == "open" || s == "won" || s == "lost" || s == "abandoned" || s == "all";
}

// ---- body validation, in class-validator's words ----

enum class Type {
  kName,     // string, not empty
  kString,   // string; "" or null clears it
  kNumber,   // monetaryValue
  kStatus,   // open|won|lost|abandoned
  kArray,    // customFields, followers
  kBool,     // isRemoveAllFollowers
  kFollowOp  // add|remove
};
struct Rule {
  const char* name;
  Type type;
};

// CreateDto.
const std::vector<Rule>& CreateRules() {
  static const std::vector<Rule> r = {{"pipelineId", Type::kName},
                                      {"locationId", Type::kName},
                                      {"name", Type::kName},
                                      {"pipelineStageId", Type::kName},
                                      {"status", Type::kStatus},
                                      {"contactId", Type::kName},
                                      {"monetaryValue", Type::kNumber},
                                      {"assignedTo", Type::kString},
                                      {"customFields", Type::kArray}};
  return r;
}

// UpdateOpportunityDto.
const std::vector<Rule>& UpdateRules() {
  static const std::vector<Rule> r = {
      {"pipelineId", Type::kName},      {"name", Type::kName},
      {"pipelineStageId", Type::kName}, {"status", Type::kStatus},
      {"monetaryValue", Type::kNumber}, {"assignedTo", Type::kString},
      {"customFields", Type::kArray}};
  return r;
}

// UpsertOpportunityDto, plus contactId.
// Inferred: the spec's UpsertOpportunityDto lists no contactId, yet an upsert that creates
// needs one and third-party copies of the live docs list it as required; so it is accepted.
// They also show followers/isRemoveAllFollowers/followersActionType as optional, which the
// spec marks required; they are optional here.
const std::vector<Rule>& UpsertRules() {
  static const std::vector<Rule> r = {{"id", Type::kName},
                                      {"pipelineId", Type::kName},
                                      {"locationId", Type::kName},
                                      {"followers", Type::kArray},
                                      {"isRemoveAllFollowers", Type::kBool},
                                      {"followersActionType", Type::kFollowOp},
                                      {"name", Type::kName},
                                      {"status", Type::kStatus},
                                      {"pipelineStageId", Type::kName},
                                      {"monetaryValue", Type::kNumber},
                                      {"assignedTo", Type::kString},
                                      {"lostReasonId", Type::kString},
                                      {"contactId", Type::kName}};
  return r;
}

// UpdateStatusDto.
const std::vector<Rule>& StatusRules() {
  static const std::vector<Rule> r = {{"status", Type::kStatus}, {"lostReasonId", Type::kString}};
  return r;
}

void CheckValue(const Rule& rule, const Json& v, std::vector<std::string>* errors) {
  const std::string n = rule.name;
  switch (rule.type) {
    case Type::kName:
      if (!v.IsString()) {
        errors->push_back(n + " must be a string");
      } else if (v.GetStringLength() == 0) {
        errors->push_back(n + " should not be empty");
      }
      break;
    case Type::kString:
      if (!v.IsString()) errors->push_back(n + " must be a string");
      break;
    case Type::kNumber:
      if (!v.IsNumber()) {
        errors->push_back(n + " must be a number conforming to the specified constraints");
      }
      break;
    case Type::kStatus:
      if (!v.IsString() || !IsStatus(v.GetString())) {
        errors->push_back(n +
                          " must be one of the following values: open, won, lost, abandoned, all");
      } else if (v == "all") {
        // Inferred: the write DTOs share the search enum, but no record can be "all".
        errors->push_back("status all is only a search filter; use open, won, lost or abandoned");
      }
      break;
    case Type::kArray:
      if (!v.IsArray()) errors->push_back(n + " must be an array");
      break;
    case Type::kBool:
      if (!v.IsBool()) errors->push_back(n + " must be a boolean value");
      break;
    case Type::kFollowOp:
      if (!v.IsString() || (v != "add" && v != "remove")) {
        errors->push_back(n + " must be one of the following values: add, remove");
      }
      break;
  }
}

// Unknown properties, missing required ones and wrong types, all at once.
std::vector<std::string> CheckBody(const Json& body, const std::vector<Rule>& rules,
                                   const std::set<std::string>& required) {
  std::vector<std::string> errors;
  for (const auto& m : body.GetObject()) {
    const std::string k(m.name.GetString(), m.name.GetStringLength());
    if (std::none_of(rules.begin(), rules.end(), [&](const Rule& r) { return k == r.name; })) {
      errors.push_back("property " + k + " should not exist");
    }
  }
  for (const Rule& rule : rules) {
    auto it = body.FindMember(rule.name);
    if (it == body.MemberEnd() || it->value.IsNull()) {
      if (required.count(rule.name) == 0) continue;
      if (rule.type == Type::kStatus) {
        CheckValue(rule, Json(), &errors);
      } else {
        errors.push_back(std::string(rule.name) + " should not be empty");
        errors.push_back(std::string(rule.name) + " must be a string");
      }
      continue;
    }
    CheckValue(rule, it->value, &errors);
  }
  if (const Json* followers = GetArray(body, "followers")) {
    for (const auto& f : followers->GetArray()) {
      if (!f.IsString()) {
        errors.push_back("each value in followers must be a string");
        break;
      }
    }
  }
  return errors;
}

// ---- custom fields ----

// An `opportunity` custom field definition of the location, by id or by key (with or
// without the "opportunity." prefix).
const Record* FindCustomField(World& w, const std::string& location, const std::string& id,
                              const std::string& key) {
  for (const auto& [fid, rec] : w.custom_fields.all()) {
    if (rec.location_id != location || GetString(rec.doc, "model") != "opportunity") continue;
    if (!id.empty() && fid == id) return &rec;
    const auto fk = GetString(rec.doc, "fieldKey").value_or("");
    if (!key.empty() && (fk == key || fk == "opportunity." + key)) return &rec;
  }
  return nullptr;
}

// Inferred: a number or boolean is kept as its string form, since neither the input
// schemas (string | string[] | object) nor CustomFieldResponseSchema.fieldValue (string |
// object | string[] | object[]) have numbers.
Json FieldValue(const Json& v, Alloc& a) {
  if (v.IsBool()) return Str(v.GetBool() ? "true" : "false", a);
  if (!v.IsNumber()) return Json(v, a);
  std::string text = Dump(v);
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return Str(text, a);
}

// Merges [{id|key, field_value}] into the record's [{id, fieldValue}]: a value replaces
// the field's old one, an empty value (null, "" or missing) removes it.
// Inferred: values are not checked against the field's dataType, and a key or id that
// is no opportunity field of the location is a 422 naming it.
void ApplyCustomFields(World& w, const std::string& location, Json& doc, const Json& input,
                       Alloc& a, std::vector<std::string>* errors) {
  if (!doc.HasMember("customFields")) doc.AddMember("customFields", Json(rapidjson::kArrayType), a);
  Json& list = doc["customFields"];
  for (const auto& cf : input.GetArray()) {
    if (!cf.IsObject()) {
      errors->push_back("each value in customFields must be an object");
      continue;
    }
    const auto id = GetString(cf, "id").value_or("");
    const auto key = GetString(cf, "key").value_or("");
    if (id.empty() && key.empty()) {
      errors->push_back("customFields: pass either id or key of the custom field");
      continue;
    }
    const Record* def = FindCustomField(w, location, id, key);
    if (def == nullptr) {
      errors->push_back("customFields: no opportunity custom field with " +
                        (id.empty() ? "key " + key : "id " + id) + " in this location");
      continue;
    }
    for (auto e = list.Begin(); e != list.End(); ++e) {
      if (GetString(*e, "id") == def->id) {
        list.Erase(e);
        break;
      }
    }
    auto value = cf.FindMember("field_value");
    const bool empty = value == cf.MemberEnd() || value->value.IsNull() ||
                       (value->value.IsString() && value->value.GetStringLength() == 0);
    if (empty) continue;
    Json item(rapidjson::kObjectType);
    item.AddMember("id", Str(def->id, a), a);
    item.AddMember("fieldValue", FieldValue(value->value, a), a);
    list.PushBack(item, a);
  }
}

// ---- records ----

Json ContactEmbed(const Json& contact, Alloc& a) {
  Json o(rapidjson::kObjectType);
  for (const char* f : {"id", "name", "companyName", "email", "phone"}) {
    if (auto v = GetString(contact, f)) o.AddMember(Json(f, a), Str(*v, a), a);
  }
  const Json* tags = GetArray(contact, "tags");
  o.AddMember("tags", tags ? Json(*tags, a) : Json(rapidjson::kArrayType), a);
  return o;
}

Record NewOpportunity(Emulator& emu, const std::string& location, int64_t now) {
  Record r;
  r.id = emu.NewId();
  r.location_id = location;
  r.added_ms = r.updated_ms = now;
  r.doc.SetObject();
  auto& a = r.doc.GetAllocator();
  const std::string t = IsoTime(now);
  r.doc.AddMember("id", Str(r.id, a), a);
  r.doc.AddMember("name", "", a);
  r.doc.AddMember("monetaryValue", 0, a);  // Inferred: an opportunity without a value has 0
  r.doc.AddMember("pipelineId", "", a);
  r.doc.AddMember("pipelineStageId", "", a);
  r.doc.AddMember("status", "open", a);
  r.doc.AddMember("source", "", a);  // Inferred: API writes cannot set it (no DTO has it)
  // Inferred: both change stamps start at creation (the spec example has them equal).
  r.doc.AddMember("lastStatusChangeAt", Str(t, a), a);
  r.doc.AddMember("lastStageChangeAt", Str(t, a), a);
  r.doc.AddMember("createdAt", Str(t, a), a);
  r.doc.AddMember("updatedAt", Str(t, a), a);
  r.doc.AddMember("contactId", "", a);
  r.doc.AddMember("locationId", Str(location, a), a);
  r.doc.AddMember("customFields", Json(rapidjson::kArrayType), a);
  r.doc.AddMember("followers", Json(rapidjson::kArrayType), a);
  return r;
}

// Inferred: isRemoveAllFollowers empties the list first; followersActionType defaults to add.
void ApplyFollowers(Json& doc, const Json& body, Alloc& a) {
  if (!doc.HasMember("followers")) doc.AddMember("followers", Json(rapidjson::kArrayType), a);
  Json& list = doc["followers"];
  if (GetBool(body, "isRemoveAllFollowers").value_or(false)) list.Clear();
  const Json* given = GetArray(body, "followers");
  if (given == nullptr) return;
  const bool remove = GetString(body, "followersActionType") == "remove";
  for (const auto& f : given->GetArray()) {
    auto it = std::find(list.Begin(), list.End(), f);
    if (remove && it != list.End()) list.Erase(it);
    if (!remove && it == list.End()) list.PushBack(Json(f, a), a);
  }
}

// Writes the (already type-checked) fields of `body` into `doc`. Returns 422 messages.
std::vector<std::string> ApplyFields(World& w, const std::string& location, Json& doc,
                                     const Json& body, Alloc& a) {
  std::vector<std::string> errors;
  for (const char* f : {"name", "pipelineId", "pipelineStageId", "status", "contactId"}) {
    if (auto v = GetString(body, f)) SetString(doc, f, *v, a);
  }
  if (auto it = body.FindMember("monetaryValue"); it != body.MemberEnd() && it->value.IsNumber()) {
    Set(doc, "monetaryValue", Json(it->value, a), a);
  }
  // Inferred: assignedTo and lostReasonId are not checked against users or lost reasons
  // (the emulator keeps no lost reasons); null or "" clears them ("unassigned").
  for (const char* f : {"assignedTo", "lostReasonId"}) {
    auto it = body.FindMember(f);
    if (it == body.MemberEnd()) continue;
    if (it->value.IsNull() || (it->value.IsString() && it->value.GetStringLength() == 0)) {
      Remove(doc, f);
    } else if (it->value.IsString()) {
      SetString(doc, f, it->value.GetString(), a);
    }
  }
  if (const Json* cfs = GetArray(body, "customFields")) {
    ApplyCustomFields(w, location, doc, *cfs, a, &errors);
  }
  if (body.HasMember("followers") || body.HasMember("isRemoveAllFollowers")) {
    ApplyFollowers(doc, body, a);
  }
  return errors;
}

// The (oldest) other opportunity of `contact` in `pipeline`.
Record* FindByContactAndPipeline(World& w, const std::string& location, const std::string& contact,
                                 const std::string& pipeline, const std::string& except_id) {
  Record* best = nullptr;
  for (const auto& [id, rec] : w.opportunities.all()) {
    if (rec.location_id != location || id == except_id) continue;
    if (GetString(rec.doc, "contactId") != contact ||
        GetString(rec.doc, "pipelineId") != pipeline) {
      continue;
    }
    if (best == nullptr || rec.added_ms < best->added_ms) best = w.opportunities.Find(id);
  }
  return best;
}

// Inferred: the 400 GHL answers for a second opportunity of a contact in one pipeline.
// The spec is silent; third-party clients quote this body from production. GHL refuses
// unless the location allows duplicate opportunities (off by default; not modelled here).
Reply DuplicateRefused(const Record& existing) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("statusCode", 400, a);
  d.AddMember("message", "Can not create duplicate opportunity for the contact.", a);
  d.AddMember("code", "OPPORTUNITY_NO_DUPLICATE", a);
  Json meta(rapidjson::kObjectType);
  meta.AddMember("existingId", Str(existing.id, a), a);
  d.AddMember("meta", meta, a);
  d.AddMember("error", "Bad Request", a);
  return JsonReply(400, d);
}

// Checks pipelineId and pipelineStageId of `doc` against the location's pipelines.
// Inferred: the messages of these 400s ("Pipeline not found", ...) are not documented.
// Inferred: without a stage (on create, or on a move to another pipeline) the opportunity
// goes to the pipeline's first stage.
std::optional<Reply> ResolvePipeline(World& w, const std::string& location, Json& doc,
                                     bool stage_given, Alloc& a) {
  const Record* p = w.pipelines.Find(GetString(doc, "pipelineId").value_or(""));
  if (p == nullptr || p->location_id != location) return BadRequest("Pipeline not found");
  const Json* stages = GetArray(p->doc, "stages");
  if (stages == nullptr || stages->Empty()) return BadRequest("Pipeline has no stages");
  const auto stage = GetString(doc, "pipelineStageId");
  for (const auto& s : stages->GetArray()) {
    if (GetString(s, "id") == stage) return std::nullopt;
  }
  if (stage_given) return BadRequest("Pipeline stage not found in pipeline " + p->id);
  SetString(doc, "pipelineStageId", GetString((*stages)[0], "id").value_or(""), a);
  return std::nullopt;
}

// Checks what `doc` points at: its contact (when new or changed), pipeline and stage, and
// that the contact has no other opportunity in the pipeline.
std::optional<Reply> CheckReferences(World& w, const std::string& location, Json& doc,
                                     const Json& body, const Json* before, const std::string& self,
                                     Alloc& a) {
  const auto contact = GetString(doc, "contactId").value_or("");
  const auto pipeline = GetString(doc, "pipelineId").value_or("");
  const bool contact_moved = before == nullptr || GetString(*before, "contactId") != contact;
  const bool pipeline_moved = before == nullptr || GetString(*before, "pipelineId") != pipeline;
  if (contact_moved) {
    const Record* c = w.contacts.Find(contact);
    if (c == nullptr || c->location_id != location) return BadRequest("Contact not found");
  }
  if (auto bad = ResolvePipeline(w, location, doc, body.HasMember("pipelineStageId"), a)) {
    return bad;
  }
  if (contact_moved || pipeline_moved) {
    // Inferred: moving an opportunity into a pipeline where its contact already has one is
    // refused like a duplicate create.
    if (const Record* dup = FindByContactAndPipeline(w, location, contact, pipeline, self)) {
      return DuplicateRefused(*dup);
    }
  }
  return std::nullopt;
}

// ---- webhooks ----

// The flat payload every Opportunity* event shares (docs/webhook events/Opportunity*.md).
JsonDoc WebhookPayload(const Record& r) {
  JsonDoc p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  for (const char* f : {"id", "assignedTo", "contactId", "monetaryValue", "name", "pipelineId",
                        "pipelineStageId", "source", "status"}) {
    if (auto it = r.doc.FindMember(f); it != r.doc.MemberEnd()) {
      p.AddMember(Json(f, a), Json(it->value, a), a);
    }
  }
  p.AddMember("dateAdded", Str(GetString(r.doc, "createdAt").value_or(""), a), a);
  return p;
}

bool Changed(const Json& before, const Json& after, const char* f) {
  auto x = before.FindMember(f);
  auto y = after.FindMember(f);
  const bool hx = x != before.MemberEnd(), hy = y != after.MemberEnd();
  return hx != hy || (hx && x->value != y->value);
}

bool StageChanged(const Json& before, const Json& after) {
  return Changed(before, after, "pipelineStageId") || Changed(before, after, "pipelineId");
}

// OpportunityUpdate for any change, then the narrower event of each field that changed
// (the .md docs: "Called whenever an opportunity's <field> is updated").
// Inferred: a stage change fires both OpportunityUpdate and OpportunityStageUpdate (the
// docs do not say whether the broad event is skipped); contacts do the same.
void EmitChanges(Emulator& emu, const Record& r, const Json& before) {
  emu.Emit("OpportunityUpdate", r.location_id, WebhookPayload(r));
  if (StageChanged(before, r.doc)) {
    emu.Emit("OpportunityStageUpdate", r.location_id, WebhookPayload(r));
  }
  if (Changed(before, r.doc, "status")) {
    emu.Emit("OpportunityStatusUpdate", r.location_id, WebhookPayload(r));
  }
  if (Changed(before, r.doc, "monetaryValue")) {
    emu.Emit("OpportunityMonetaryValueUpdate", r.location_id, WebhookPayload(r));
  }
  if (Changed(before, r.doc, "assignedTo")) {
    emu.Emit("OpportunityAssignedToUpdate", r.location_id, WebhookPayload(r));
  }
}

// ---- writes ----

// Applies `body` to `r`: an error reply, or nullopt (changed or not). Only a real change
// moves updatedAt (and lastStatusChangeAt / lastStageChangeAt) and fires webhooks.
std::optional<Reply> UpdateOpportunity(Emulator& emu, Record& r, const Json& body, int64_t now) {
  World& w = emu.world();
  JsonDoc before = Copy(r.doc);
  JsonDoc scratch = Copy(r.doc);
  auto& a = scratch.GetAllocator();
  auto errors = ApplyFields(w, r.location_id, scratch, body, a);
  if (!errors.empty()) return Unprocessable(errors);
  if (auto bad = CheckReferences(w, r.location_id, scratch, body, &before, r.id, a)) return bad;
  if (scratch == before) return std::nullopt;
  const std::string t = IsoTime(now);
  SetString(scratch, "updatedAt", t, a);
  if (Changed(before, scratch, "status")) SetString(scratch, "lastStatusChangeAt", t, a);
  if (StageChanged(before, scratch)) SetString(scratch, "lastStageChangeAt", t, a);
  if (const Record* c = w.contacts.Find(GetString(scratch, "contactId").value_or(""))) {
    Set(scratch, "contact", ContactEmbed(c->doc, a), a);
  }
  r.doc = std::move(scratch);
  r.updated_ms = now;
  w.opportunities.Touched(r, now, emu.options().search_lag_ms);
  EmitChanges(emu, r, before);
  return std::nullopt;
}

// Validates and stores a new opportunity made from `r` (defaults) and `body`.
std::optional<Reply> CreateOpportunity(Emulator& emu, Record r, const Json& body, int64_t now,
                                       Record** stored) {
  World& w = emu.world();
  auto& a = r.doc.GetAllocator();
  auto errors = ApplyFields(w, r.location_id, r.doc, body, a);
  if (!errors.empty()) return Unprocessable(errors);
  if (auto bad = CheckReferences(w, r.location_id, r.doc, body, nullptr, r.id, a)) return bad;
  if (const Record* c = w.contacts.Find(GetString(r.doc, "contactId").value_or(""))) {
    Set(r.doc, "contact", ContactEmbed(c->doc, a), a);
  }
  *stored = &w.opportunities.Put(std::move(r), now, emu.options().search_lag_ms);
  emu.Emit("OpportunityCreate", (*stored)->location_id, WebhookPayload(**stored));
  return std::nullopt;
}

Reply WithOpportunity(Call& c, int status, const Record& r, const char* is_new = nullptr,
                      bool created = false) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("opportunity", RenderOpportunity(c.emu.world(), r.doc, a), a);
  if (is_new != nullptr) d.AddMember(rapidjson::StringRef(is_new), created, a);
  return JsonReply(status, d);
}

// The body, with the location check done first.
// Inferred: GHL's location guard runs before body validation, so 403 beats 422.
JsonDoc* BodyFor(Call& c, std::optional<Reply>* error, std::string* location) {
  JsonDoc* body = c.Body(error);
  if (body == nullptr) return nullptr;
  *location = GetString(*body, "locationId").value_or("");
  if (!location->empty()) {
    if (auto denied = c.CheckLocation(*location)) {
      *error = denied;
      return nullptr;
    }
  }
  return body;
}

Reply Create(Call& c) {
  std::optional<Reply> err;
  std::string location;
  JsonDoc* body = BodyFor(c, &err, &location);
  if (body == nullptr) return *err;
  auto errors =
      CheckBody(*body, CreateRules(), {"pipelineId", "locationId", "name", "status", "contactId"});
  if (!errors.empty()) return Unprocessable(errors);
  Record* stored = nullptr;
  if (auto bad = CreateOpportunity(c.emu, NewOpportunity(c.emu, location, c.now_ms), *body,
                                   c.now_ms, &stored)) {
    return *bad;
  }
  return WithOpportunity(c, 201, *stored);
}

Reply Get(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().opportunities, "id", "Opportunity", &err);
  if (r == nullptr) return *err;
  return WithOpportunity(c, 200, *r);
}

Reply Update(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().opportunities, "id", "Opportunity", &err);
  if (r == nullptr) return *err;
  JsonDoc* body = c.Body(&err);
  if (body == nullptr) return *err;
  auto errors = CheckBody(*body, UpdateRules(), {});
  if (!errors.empty()) return Unprocessable(errors);
  if (auto bad = UpdateOpportunity(c.emu, *r, *body, c.now_ms)) return *bad;
  return WithOpportunity(c, 200, *r);
}

Reply UpdateStatus(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().opportunities, "id", "Opportunity", &err);
  if (r == nullptr) return *err;
  JsonDoc* body = c.Body(&err);
  if (body == nullptr) return *err;
  auto errors = CheckBody(*body, StatusRules(), {"status"});
  if (!errors.empty()) return Unprocessable(errors);
  if (auto bad = UpdateOpportunity(c.emu, *r, *body, c.now_ms)) return *bad;
  return Succeded();
}

Reply Delete(Call& c) {
  std::optional<Reply> err;
  Record* r = c.Lookup(c.emu.world().opportunities, "id", "Opportunity", &err);
  if (r == nullptr) return *err;
  JsonDoc payload = WebhookPayload(*r);
  const std::string location = r->location_id, id = r->id;
  c.emu.world().opportunities.Erase(id, c.now_ms, c.emu.options().search_lag_ms);
  c.emu.Emit("OpportunityDelete", location, std::move(payload));
  return Succeded();
}

// Matches by `id` when given, else by (contactId, pipelineId).
// Inferred: that pair is what GHL keys opportunities on (one per contact per pipeline,
// see DuplicateRefused); with several (duplicates allowed) the oldest is updated.
Reply Upsert(Call& c) {
  std::optional<Reply> err;
  std::string location;
  JsonDoc* body = BodyFor(c, &err, &location);
  if (body == nullptr) return *err;
  const auto id = GetString(*body, "id");
  const bool by_id = id.has_value();
  auto errors = CheckBody(*body, UpsertRules(),
                          by_id ? std::set<std::string>{"pipelineId", "locationId"}
                                : std::set<std::string>{"pipelineId", "locationId", "contactId"});
  const auto contact = GetString(*body, "contactId").value_or("");
  if (!errors.empty()) return Unprocessable(errors);
  World& w = c.emu.world();
  Record* match = nullptr;
  if (id) {
    match = w.opportunities.Find(*id);
    if (match == nullptr || match->location_id != location) {
      return BadRequest("Opportunity not found");
    }
  } else {
    match =
        FindByContactAndPipeline(w, location, contact, GetString(*body, "pipelineId").value(), "");
  }
  JsonDoc changes = Copy(*body);
  Remove(changes, "id");
  Remove(changes, "locationId");
  if (match != nullptr) {
    if (auto bad = UpdateOpportunity(c.emu, *match, changes, c.now_ms)) return *bad;
    return WithOpportunity(c, 200, *match, "new", false);
  }
  Record r = NewOpportunity(c.emu, location, c.now_ms);
  // Inferred: an upsert that creates without a name names the opportunity after its
  // contact, as the web app prefills it.
  const Record* owner = w.contacts.Find(contact);
  const auto contact_name = owner ? GetString(owner->doc, "name") : std::nullopt;
  SetString(r.doc, "name", contact_name.value_or("Opportunity"), r.doc.GetAllocator());
  Record* stored = nullptr;
  if (auto bad = CreateOpportunity(c.emu, std::move(r), changes, c.now_ms, &stored)) return *bad;
  return WithOpportunity(c, 200, *stored, "new", true);
}

Reply Pipelines(Call& c) {
  const auto location = c.Query("locationId").value_or("");
  // Inferred: a missing locationId is a 400, as get-pipelines declares no 422.
  if (location.empty()) return BadRequest("locationId should not be empty");
  if (auto denied = c.CheckLocation(location)) return *denied;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  for (const auto& [id, rec] : c.emu.world().pipelines.all()) {
    if (rec.location_id == location) list.PushBack(Json(rec.doc, a), a);
  }
  d.AddMember("pipelines", list, a);
  return JsonReply(200, d);
}

}  // namespace

// Inferred: the embedded contact shows the contact as it is now, not as it was when the
// opportunity last changed.
Json RenderOpportunity(World& w, const Json& doc, Alloc& a) {
  Json out(doc, a);
  if (const Record* c = w.contacts.Find(GetString(doc, "contactId").value_or(""))) {
    Set(out, "contact", ContactEmbed(c->doc, a), a);
  }
  return out;
}

void RegisterOpportunityRoutes(Router& r) {
  using http::verb;
  const char* v = kVersion20210728;
  r.Add(verb::get, "/opportunities/search", v, Access::kLocation, SearchOpportunities);
  r.Add(verb::get, "/opportunities/pipelines", v, Access::kLocation, Pipelines);
  r.Add(verb::post, "/opportunities/", v, Access::kLocation, Create);
  r.Add(verb::post, "/opportunities/upsert", v, Access::kLocation, Upsert);
  r.Add(verb::get, "/opportunities/{id}", v, Access::kLocation, Get);
  r.Add(verb::put, "/opportunities/{id}", v, Access::kLocation, Update);
  r.Add(verb::delete_, "/opportunities/{id}", v, Access::kLocation, Delete);
  r.Add(verb::put, "/opportunities/{id}/status", v, Access::kLocation, UpdateStatus);
}

}  // namespace ghl::emulator
