// Custom field values and definitions, and pipelines (FACTS.md §3.5, §4.3, §6).
#include <algorithm>

#include "connectors/ghl/operation_checks.h"
#include "connectors/ghl/responses.h"

namespace ghl::ghl_client {
namespace {

using detail::StringOf;

// The value of one customFields item, whichever name its shape gives it.
const rapidjson::Value* ValueOf(const rapidjson::Value& item) {
  for (const char* k : {"value", "fieldValue", "field_value"}) {
    if (auto it = item.FindMember(k); it != item.MemberEnd()) return &it->value;
  }
  return nullptr;
}

std::string Key(std::string_view model, std::string_view key) {
  std::string k(model);
  k += ' ';
  k += key;
  return k;
}

}  // namespace

Result<FieldValues> ParseFieldValues(const rapidjson::Value& record) {
  if (!record.IsObject()) return Error{"customFields: the record is not a JSON object"};
  FieldValues out;
  auto list = record.FindMember("customFields");
  if (list == record.MemberEnd() || list->value.IsNull()) return out;
  if (!list->value.IsArray()) return Error{"customFields is not an array"};
  for (rapidjson::SizeType i = 0; i < list->value.Size(); ++i) {
    const auto& item = list->value[i];
    const auto id = StringOf(item, "id");
    if (id.empty()) {
      return Error{"customFields[" + std::to_string(i) + "] has no id"};
    }
    const rapidjson::Value* value = ValueOf(item);
    out[std::string(id)] = value ? detail::Dump(*value) : "null";
  }
  return out;
}

Result<rapidjson::Value> FieldValuesInput(const FieldValues& values,
                                          rapidjson::Document::AllocatorType& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& [id, text] : values) {
    rapidjson::Document parsed(&a);  // parses straight into `a`
    parsed.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str(), text.size());
    if (parsed.HasParseError()) {
      return Error{"custom field " + id + ": the value is not JSON text: " + text};
    }
    rapidjson::Value item(rapidjson::kObjectType);
    detail::AddString(item, "id", id, a);
    item.AddMember("field_value", static_cast<rapidjson::Value&>(parsed), a);
    list.PushBack(item, a);
  }
  return list;
}

Result<CustomFieldIndex> CustomFieldIndex::Parse(std::string_view body) {
  auto records = ParseRecords(body, "customFields");
  if (!records.ok()) return records.error();
  CustomFieldIndex index;
  for (size_t i = 0; i < records->size(); ++i) {
    const auto& f = (*records)[i];
    CustomFieldDefinition d{std::string(StringOf(f, "id")), std::string(StringOf(f, "name")),
                            std::string(StringOf(f, "fieldKey")), std::string(StringOf(f, "model")),
                            std::string(StringOf(f, "dataType"))};
    if (d.id.empty() || d.field_key.empty()) {
      return Error{"customFields[" + std::to_string(i) + "] has no id or no fieldKey"};
    }
    // Inferred: a definition without `model` belongs to the model its key starts with.
    if (d.model.empty()) d.model = d.field_key.substr(0, d.field_key.find('.'));
    index.fields_.push_back(std::move(d));
  }
  // Full keys first, so that a short key never hides another field's full key.
  for (size_t i = 0; i < index.fields_.size(); ++i) {
    const auto& d = index.fields_[i];
    index.by_id_.emplace(d.id, i);
    index.by_key_.emplace(Key(d.model, d.field_key), i);
  }
  for (size_t i = 0; i < index.fields_.size(); ++i) {
    const auto& d = index.fields_[i];
    const std::string prefix = d.model + ".";
    if (d.field_key.rfind(prefix, 0) == 0) {
      index.by_key_.emplace(Key(d.model, d.field_key.substr(prefix.size())), i);
    }
  }
  return index;
}

const CustomFieldDefinition* CustomFieldIndex::Find(std::string_view model,
                                                    std::string_view key) const {
  auto it = by_key_.find(Key(model, key));
  return it == by_key_.end() ? nullptr : &fields_[it->second];
}

const CustomFieldDefinition* CustomFieldIndex::FindById(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &fields_[it->second];
}

std::optional<std::string> CustomFieldIndex::IdOf(std::string_view model,
                                                  std::string_view key) const {
  const CustomFieldDefinition* d = Find(model, key);
  if (d == nullptr) return std::nullopt;
  return d->id;
}

Result<std::vector<Pipeline>> ParsePipelines(std::string_view body) {
  auto records = ParseRecords(body, "pipelines");
  if (!records.ok()) return records.error();
  std::vector<Pipeline> out;
  for (size_t i = 0; i < records->size(); ++i) {
    const auto& p = (*records)[i];
    Pipeline pipeline{std::string(StringOf(p, "id")), std::string(StringOf(p, "name")), {}};
    if (pipeline.id.empty()) return Error{"pipelines[" + std::to_string(i) + "] has no id"};
    if (auto stages = p.FindMember("stages"); stages != p.MemberEnd() && stages->value.IsArray()) {
      for (const auto& s : stages->value.GetArray()) {
        if (!s.IsObject()) {
          return Error{"pipelines[" + std::to_string(i) + "] has a stage that is not an object"};
        }
        auto pos = s.FindMember("position");
        const int position = pos != s.MemberEnd() && pos->value.IsInt()
                                 ? pos->value.GetInt()
                                 : static_cast<int>(pipeline.stages.size());
        pipeline.stages.push_back(
            {std::string(StringOf(s, "id")), std::string(StringOf(s, "name")), position});
      }
    }
    std::stable_sort(pipeline.stages.begin(), pipeline.stages.end(),
                     [](const auto& x, const auto& y) { return x.position < y.position; });
    out.push_back(std::move(pipeline));
  }
  return out;
}

}  // namespace ghl::ghl_client
