// Custom field definitions of a location (apps/locations.json, Version 2021-07-28;
// FACTS.md §6.1). Records have the CustomFieldSchema shape the seed uses; contacts.cc
// resolves `{key|id, field_value}` writes against them by `fieldKey` and `model`.
#include <algorithm>
#include <cctype>

#include "emulator/emulator.h"

namespace ghl::emulator {
namespace {

// Inferred: locations.json lists no dataType enum; this is the one of custom-fields.json.
constexpr const char* kDataTypes[] = {
    "TEXT",           "LARGE_TEXT",       "NUMERICAL", "PHONE",        "MONETORY",    "CHECKBOX",
    "SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "DATE",      "TEXTBOX_LIST", "FILE_UPLOAD", "RADIO",
    "EMAIL"};
constexpr const char* kOptionTypes[] = {"SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "RADIO", "CHECKBOX",
                                        "TEXTBOX_LIST"};
constexpr const char* kModels[] = {"contact", "opportunity"};
constexpr const char* kListModels[] = {"contact", "opportunity", "all"};

template <size_t N>
bool OneOf(const std::string& v, const char* const (&values)[N]) {
  return std::any_of(std::begin(values), std::end(values), [&](const char* s) { return v == s; });
}

template <size_t N>
std::string OneOfMessage(const std::string& field, const char* const (&values)[N]) {
  std::string m = field + " must be one of the following values: ";
  for (size_t i = 0; i < N; ++i) m += (i ? ", " : "") + std::string(values[i]);
  return m;
}

// "Membership Level" → "membership_level", as the seeded keys (and GHL's) look.
std::string SnakeCase(const std::string& name) {
  std::string out;
  for (unsigned char ch : name) {
    if (std::isalnum(ch)) {
      out += static_cast<char>(std::tolower(ch));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

// ---- validation ----

enum class Kind {
  kString,
  kBool,
  kNumber,
  kDataType,
  kModel,
  kStringArray,
  kOptions,
  kTextBoxList
};
struct BodyField {
  const char* name;
  Kind kind;
  bool on_update;  // also in UpdateCustomFieldsDTO (all are in CreateCustomFieldsDTO)
};
constexpr BodyField kBodyFields[] = {
    {"name", Kind::kString, true},
    {"dataType", Kind::kDataType, false},
    {"placeholder", Kind::kString, true},
    {"acceptedFormat", Kind::kStringArray, true},
    {"isMultipleFile", Kind::kBool, true},
    {"maxNumberOfFiles", Kind::kNumber, true},
    {"textBoxListOptions", Kind::kTextBoxList, true},
    {"position", Kind::kNumber, true},
    {"model", Kind::kModel, true},
    // Inferred: undocumented fields GHL accepts (highlevel-api-docs issue #300: fieldKey,
    // description, parentId, showInForms) and `options` (string picklist) that integrations
    // send for option types. fieldKey is fixed once created.
    {"options", Kind::kOptions, true},
    {"fieldKey", Kind::kString, false},
    {"description", Kind::kString, true},
    {"parentId", Kind::kString, true},
    {"showInForms", Kind::kBool, true},
};

bool AllOf(const Json& v, bool (*ok)(const Json&)) {
  return v.IsArray() && std::all_of(v.Begin(), v.End(), ok);
}

// The class-validator message for one member, or "" when it is valid.
std::string CheckField(const BodyField& f, const Json& v) {
  const std::string name = f.name;
  switch (f.kind) {
    case Kind::kString:
      return v.IsString() ? "" : name + " must be a string";
    case Kind::kBool:
      return v.IsBool() ? "" : name + " must be a boolean value";
    case Kind::kNumber:
      return v.IsNumber() ? "" : name + " must be a number conforming to the specified constraints";
    case Kind::kDataType:
      return v.IsString() && OneOf(v.GetString(), kDataTypes) ? "" : OneOfMessage(name, kDataTypes);
    case Kind::kModel:
      return v.IsString() && OneOf(v.GetString(), kModels) ? "" : OneOfMessage(name, kModels);
    case Kind::kStringArray:
      return AllOf(v, [](const Json& x) { return x.IsString(); })
                 ? ""
                 : "each value in " + name + " must be a string";
    case Kind::kOptions:
      return AllOf(v,
                   [](const Json& x) { return x.IsString() || GetString(x, "label").has_value(); })
                 ? ""
                 : "each value in " + name + " must be a string";
    case Kind::kTextBoxList:
      return AllOf(v, [](const Json& x) { return x.IsObject(); })
                 ? ""
                 : "each value in " + name + " must be an object";
  }
  return "";
}

std::vector<std::string> ValidateBody(const Json& body, bool create) {
  std::vector<std::string> errors;
  for (const auto& m : body.GetObject()) {
    const std::string key = m.name.GetString();
    const auto* f = std::find_if(std::begin(kBodyFields), std::end(kBodyFields),
                                 [&](const BodyField& b) { return key == b.name; });
    if (f == std::end(kBodyFields) || (!create && !f->on_update)) {
      errors.push_back("property " + key + " should not exist");
    } else if (auto e = CheckField(*f, m.value); !e.empty()) {
      errors.push_back(e);
    }
  }
  if (GetString(body, "name").value_or("").empty()) errors.push_back("name should not be empty");
  if (create && !body.HasMember("dataType")) errors.push_back("dataType should not be empty");
  return errors;
}

// ---- records ----

// The field of `location` with this id or fieldKey; with `model`, only of that model.
Record* FindField(World& w, const std::string& location, const std::string& id_or_key,
                  const std::string& model = "") {
  for (auto& [id, rec] : w.custom_fields.all()) {
    if (rec.location_id != location) continue;
    if (!model.empty() && GetString(rec.doc, "model") != model) continue;
    if (id == id_or_key || GetString(rec.doc, "fieldKey") == id_or_key) {
      return w.custom_fields.Find(id);
    }
  }
  return nullptr;
}

// Applies the shared Create/Update fields of a validated body to `field`.
void ApplyFields(const Json& body, Json& field, Alloc& a) {
  for (const char* f : {"name", "placeholder", "description", "parentId"}) {
    if (auto v = GetString(body, f)) SetString(field, f, *v, a);
  }
  // Request name → stored name (CustomFieldSchema renames the file settings).
  constexpr std::pair<const char*, const char*> kCopied[] = {
      {"position", "position"},
      {"showInForms", "showInForms"},
      {"isMultipleFile", "isMultiFileAllowed"},
      {"maxNumberOfFiles", "maxFileLimit"},
      {"acceptedFormat", "acceptedFormat"},
      {"textBoxListOptions", "textBoxListOptions"}};
  for (const auto& [from, to] : kCopied) {
    if (auto it = body.FindMember(from); it != body.MemberEnd()) {
      Set(field, to, Json(it->value, a), a);
    }
  }
  // Inferred: `options` replace the picklist of option types ({label} objects give their
  // label); other types keep an empty picklist.
  const Json* options = GetArray(body, "options");
  if (options != nullptr && OneOf(GetString(field, "dataType").value_or(""), kOptionTypes)) {
    Json list(rapidjson::kArrayType);
    for (const auto& o : options->GetArray()) {
      list.PushBack(o.IsString() ? Json(o, a) : Str(*GetString(o, "label"), a), a);
    }
    Set(field, "picklistOptions", std::move(list), a);
  }
}

JsonDoc NewField(const std::string& id, const std::string& location, const std::string& model,
                 const std::string& key, const std::string& data_type) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", Str(id, a), a);
  d.AddMember("name", "", a);
  d.AddMember("fieldKey", Str(model + "." + key, a), a);
  d.AddMember("placeholder", "", a);
  d.AddMember("dataType", Str(data_type, a), a);
  d.AddMember("position", 0, a);  // the spec's default
  d.AddMember("picklistOptions", Json(rapidjson::kArrayType), a);
  d.AddMember("picklistImageOptions", Json(rapidjson::kArrayType), a);
  d.AddMember("isAllowedCustomOption", false, a);
  d.AddMember("isMultiFileAllowed", false, a);
  d.AddMember("maxFileLimit", 0, a);
  d.AddMember("locationId", Str(location, a), a);
  d.AddMember("model", Str(model, a), a);
  return d;
}

Reply FieldReply(int status, const Record& r) {
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("customField", Json(r.doc, d.GetAllocator()), d.GetAllocator());
  return JsonReply(status, d);
}

// Inferred: deleting a definition removes its values from the location's contacts and
// opportunities, silently: no webhooks and no dateUpdated change (a schema change, not an
// edit of those records), but the search view sees the change after the usual lag.
void DropValues(Emulator& emu, Collection& records, const std::string& location,
                const std::string& field_id, int64_t now) {
  for (const auto& [id, rec] : records.all()) {
    if (rec.location_id != location) continue;
    Record* r = records.Find(id);
    auto it = r->doc.FindMember("customFields");
    if (it == r->doc.MemberEnd() || !it->value.IsArray()) continue;
    Json& values = it->value;
    const auto before = values.Size();
    for (auto v = values.Begin(); v != values.End();) {
      v = GetString(*v, "id") == field_id ? values.Erase(v) : v + 1;
    }
    if (values.Size() != before) records.Touched(*r, now, emu.options().search_lag_ms);
  }
}

// ---- handlers ----

Reply List(Call& c) {
  const std::string location = c.path["locationId"];
  if (auto denied = c.CheckLocation(location)) return *denied;
  std::vector<std::string> errors;
  for (const auto& [k, v] : c.query) {
    if (k != "model") errors.push_back("property " + k + " should not exist");
  }
  // Inferred: without `model` GHL lists contact fields only (hence the "all" value).
  const std::string model = c.Query("model").value_or("contact");
  if (!OneOf(model, kListModels)) errors.push_back(OneOfMessage("model", kListModels));
  if (!errors.empty()) return Unprocessable(errors);
  std::vector<const Record*> hits;
  for (const auto& [id, rec] : c.emu.world().custom_fields.all()) {
    if (rec.location_id != location) continue;
    if (model != "all" && GetString(rec.doc, "model") != model) continue;
    hits.push_back(&rec);
  }
  // Inferred order: position, then name.
  std::sort(hits.begin(), hits.end(), [](const Record* x, const Record* y) {
    const double px = GetNumber(x->doc, "position").value_or(0);
    const double py = GetNumber(y->doc, "position").value_or(0);
    if (px != py) return px < py;
    return GetString(x->doc, "name") < GetString(y->doc, "name");
  });
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  for (const Record* r : hits) list.PushBack(Json(r->doc, a), a);
  d.AddMember("customFields", list, a);
  return JsonReply(200, d);
}

Reply Create(Call& c) {
  const std::string location = c.path["locationId"];
  if (auto denied = c.CheckLocation(location)) return *denied;
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  if (auto errors = ValidateBody(*body, true); !errors.empty()) return Unprocessable(errors);
  const std::string model = GetString(*body, "model").value_or("contact");
  // fieldKey = "<model>.<snake_case name>", or the given fieldKey with or without prefix.
  std::string key = GetString(*body, "fieldKey").value_or(*GetString(*body, "name"));
  if (key.rfind(model + ".", 0) == 0) key = key.substr(model.size() + 1);
  key = SnakeCase(key);
  if (key.empty()) return Unprocessable({"name must contain a letter or a digit"});
  Emulator& emu = c.emu;
  // Inferred: keys are unique per location (per model prefix); a clash is refused.
  if (FindField(emu.world(), location, model + "." + key) != nullptr) {
    return BadRequest("A custom field with the key " + model + "." + key + " already exists");
  }
  Record r;
  r.id = emu.NewId();
  r.location_id = location;
  r.added_ms = r.updated_ms = c.now_ms;
  r.doc = NewField(r.id, location, model, key, *GetString(*body, "dataType"));
  ApplyFields(*body, r.doc, r.doc.GetAllocator());
  Record& stored =
      emu.world().custom_fields.Put(std::move(r), c.now_ms, emu.options().search_lag_ms);
  return FieldReply(201, stored);
}

// The field named by the path, in the path's location; on failure *error is the reply.
Record* Lookup(Call& c, std::optional<Reply>* error, const std::string& model = "") {
  const std::string location = c.path["locationId"];
  if (auto denied = c.CheckLocation(location)) {
    *error = denied;
    return nullptr;
  }
  Record* r = FindField(c.emu.world(), location, c.path["id"], model);
  if (r == nullptr) *error = BadRequest("Custom field not found");  // Inferred message
  return r;
}

Reply Get(Call& c) {
  std::optional<Reply> err;
  Record* r = Lookup(c, &err);  // by id or by field key, as the spec allows
  return r ? FieldReply(200, *r) : *err;
}

Reply Update(Call& c) {
  std::optional<Reply> err;
  if (auto denied = c.CheckLocation(c.path["locationId"])) return *denied;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  if (auto errors = ValidateBody(*body, false); !errors.empty()) return Unprocessable(errors);
  // Inferred: `model` says which model's field to update; a field of the other model is
  // not found.
  Record* r = Lookup(c, &err, GetString(*body, "model").value_or(""));
  if (!r) return *err;
  JsonDoc scratch = Copy(r->doc);
  ApplyFields(*body, scratch, scratch.GetAllocator());
  if (scratch != r->doc) {
    r->doc = std::move(scratch);
    r->updated_ms = c.now_ms;
    c.emu.world().custom_fields.Touched(*r, c.now_ms, c.emu.options().search_lag_ms);
  }
  return FieldReply(200, *r);
}

Reply Delete(Call& c) {
  std::optional<Reply> err;
  Record* r = Lookup(c, &err);
  if (!r) return *err;
  const std::string id = r->id, location = r->location_id;
  World& w = c.emu.world();
  w.custom_fields.Erase(id, c.now_ms, c.emu.options().search_lag_ms);
  DropValues(c.emu, w.contacts, location, id, c.now_ms);
  DropValues(c.emu, w.opportunities, location, id, c.now_ms);
  return Succeded();  // CustomFieldDeleteSuccessfulResponseDto
}

}  // namespace

void RegisterCustomFieldRoutes(Router& r) {
  using http::verb;
  const char* v = kVersion20210728;
  const Access loc = Access::kLocation;
  r.Add(verb::get, "/locations/{locationId}/customFields", v, loc, List);
  r.Add(verb::post, "/locations/{locationId}/customFields", v, loc, Create);
  r.Add(verb::get, "/locations/{locationId}/customFields/{id}", v, loc, Get);
  r.Add(verb::put, "/locations/{locationId}/customFields/{id}", v, loc, Update);
  r.Add(verb::delete_, "/locations/{locationId}/customFields/{id}", v, loc, Delete);
}

}  // namespace ghl::emulator
