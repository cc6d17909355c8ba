#include "emulator/search.h"

#include <algorithm>
#include <cmath>

namespace ghl::emulator {
namespace {

const std::vector<std::string>& Operators() {
  static const std::vector<std::string> ops = {"eq",     "not_eq",     "contains", "not_contains",
                                               "exists", "not_exists", "range"};
  return ops;
}

bool IsDateField(const std::string& f) {
  return f == "dateAdded" || f == "dateUpdated" || f == "lastActivity" || f == "createdAt" ||
         f == "updatedAt" || f == "startTime" || f == "endTime" || f == "lastStatusChangeAt" ||
         f == "lastStageChangeAt";
}

// A comparable form of a value: times as epoch ms, strings lowercased.
struct Scalar {
  enum Kind { kNone, kNumber, kString, kBool } kind = kNone;
  double number = 0;
  std::string text;
};

Scalar ToScalar(const Json& v, bool date) {
  Scalar s;
  if (v.IsNumber()) {
    s.kind = Scalar::kNumber, s.number = v.GetDouble();
  } else if (v.IsBool()) {
    s.kind = Scalar::kBool, s.number = v.GetBool() ? 1 : 0;
  } else if (v.IsString()) {
    const std::string str(v.GetString(), v.GetStringLength());
    if (date) {
      if (auto t = ParseIsoTime(str)) {
        s.kind = Scalar::kNumber, s.number = static_cast<double>(*t);
        return s;
      }
      char* end = nullptr;
      const double n = std::strtod(str.c_str(), &end);
      if (!str.empty() && *end == '\0') {
        s.kind = Scalar::kNumber, s.number = n;
        return s;
      }
    }
    s.kind = Scalar::kString;
    s.text = str;
    std::transform(s.text.begin(), s.text.end(), s.text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  return s;
}

int Compare(const Scalar& a, const Scalar& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.kind == Scalar::kString)
    return a.text.compare(b.text) < 0 ? -1 : (a.text == b.text ? 0 : 1);
  if (a.number == b.number) return 0;
  return a.number < b.number ? -1 : 1;
}

// Looks up a field, including "customFields.<id>" in [{id, value}] lists.
const Json* FieldOf(const Json& record, const std::string& field) {
  if (!record.IsObject()) return nullptr;
  if (field.rfind("customFields.", 0) == 0) {
    const std::string id = field.substr(13);
    const Json* list = GetArray(record, "customFields");
    if (list == nullptr) return nullptr;
    for (const auto& cf : list->GetArray()) {
      if (GetString(cf, "id") == id) {
        auto it = cf.FindMember("value");
        if (it == cf.MemberEnd()) it = cf.FindMember("fieldValue");
        return it == cf.MemberEnd() ? nullptr : &it->value;
      }
    }
    return nullptr;
  }
  auto it = record.FindMember(field.c_str());
  if (it == record.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

}  // namespace

bool Filter::Compile(const Json* filters, std::vector<std::string>* errors) {
  top_.clear();
  if (filters == nullptr) return true;
  if (!filters->IsArray()) {
    errors->push_back("filters must be an array");
    return false;
  }
  for (const auto& item : filters->GetArray()) {
    Node n;
    if (!CompileNode(item, &n, errors, 0)) return false;
    top_.push_back(std::move(n));
  }
  return true;
}

std::optional<int64_t> Filter::LowerBound(const std::string& field) const {
  std::optional<int64_t> lowest;
  for (const Node& n : top_) {
    if (n.is_group || n.field != field || n.op != "range" || !n.value.IsObject()) continue;
    for (const auto& bound : n.value.GetObject()) {
      const std::string name(bound.name.GetString());
      if (name != "gte" && name != "gt") continue;
      const Scalar at = ToScalar(bound.value, true);
      if (at.kind != Scalar::kNumber) continue;
      // Clamped: a bound no time reaches (1e30) must not overflow the conversion.
      const auto ms = static_cast<int64_t>(std::clamp(std::floor(at.number), -9.0e15, 9.0e15));
      if (!lowest || ms > *lowest) lowest = ms;
    }
  }
  return lowest;
}

bool Filter::CompileNode(const Json& item, Node* out, std::vector<std::string>* errors, int depth) {
  if (!item.IsObject()) {
    errors->push_back("each filter must be an object");
    return false;
  }
  if (auto group = GetString(item, "group")) {
    if (*group != "AND" && *group != "OR") {
      errors->push_back("group must be one of the following values: AND, OR");
      return false;
    }
    if (depth >= 2) {
      errors->push_back("filter groups may be nested at most two levels deep");
      return false;
    }
    out->is_group = true;
    out->any = *group == "OR";
    const Json* children = GetArray(item, "filters");
    if (children == nullptr) {
      errors->push_back("a filter group needs a filters array");
      return false;
    }
    for (const auto& c : children->GetArray()) {
      Node child;
      if (!CompileNode(c, &child, errors, depth + 1)) return false;
      out->children.push_back(std::move(child));
    }
    return true;
  }
  auto field = GetString(item, "field");
  auto op = GetString(item, "operator");
  if (!field || field->empty()) {
    errors->push_back("filter field must be a non-empty string");
    return false;
  }
  if (!op || std::find(Operators().begin(), Operators().end(), *op) == Operators().end()) {
    errors->push_back(
        "filter operator must be one of: eq, not_eq, contains, not_contains, "
        "exists, not_exists, range");
    return false;
  }
  out->field = *field;
  out->op = *op;
  auto v = item.FindMember("value");
  const bool needs_value = *op != "exists" && *op != "not_exists";
  if (needs_value && v == item.MemberEnd()) {
    errors->push_back("filter on " + *field + " with operator " + *op + " needs a value");
    return false;
  }
  if (v != item.MemberEnd()) {
    if (v->value.IsString() && v->value.GetStringLength() > 75) {
      errors->push_back("filter values are limited to 75 characters");
      return false;
    }
    if (*op == "range" && !v->value.IsObject()) {
      errors->push_back("range filter value must be an object with gte, lte, gt or lt");
      return false;
    }
    out->value.CopyFrom(v->value, out->value.GetAllocator());
  }
  return true;
}

bool Filter::Matches(const Json& record) const {
  for (const auto& n : top_) {
    if (!Eval(n, record)) return false;
  }
  return true;
}

bool Filter::Eval(const Node& n, const Json& record) const {
  if (!n.is_group) return EvalLeaf(n, record);
  if (n.any) {
    for (const auto& c : n.children) {
      if (Eval(c, record)) return true;
    }
    return n.children.empty();
  }
  for (const auto& c : n.children) {
    if (!Eval(c, record)) return false;
  }
  return true;
}

bool Filter::EvalLeaf(const Node& n, const Json& record) const {
  const Json* v = FieldOf(record, n.field);
  const bool present = v != nullptr && !(v->IsString() && v->GetStringLength() == 0) &&
                       !(v->IsArray() && v->Empty());
  if (n.op == "exists") return present;
  if (n.op == "not_exists") return !present;
  const bool date = IsDateField(n.field);

  auto any_element = [&](const auto& pred) {
    if (v == nullptr) return false;
    if (v->IsArray()) {
      for (const auto& e : v->GetArray()) {
        if (pred(e)) return true;
      }
      return false;
    }
    return pred(*v);
  };
  auto equals = [&](const Json& e) {
    if (n.value.IsArray()) {
      for (const auto& want : n.value.GetArray()) {
        if (Compare(ToScalar(e, date), ToScalar(want, date)) == 0) return true;
      }
      return false;
    }
    return Compare(ToScalar(e, date), ToScalar(n.value, date)) == 0;
  };
  auto contains = [&](const Json& e) {
    const Scalar hay = ToScalar(e, false), needle = ToScalar(n.value, false);
    return hay.kind == Scalar::kString && needle.kind == Scalar::kString &&
           hay.text.find(needle.text) != std::string::npos;
  };
  if (n.op == "eq") return any_element(equals);
  if (n.op == "not_eq") return !any_element(equals);
  if (n.op == "contains") return any_element(contains);
  if (n.op == "not_contains") return !any_element(contains);
  // range
  return any_element([&](const Json& e) {
    const Scalar x = ToScalar(e, date);
    for (const auto& bound : n.value.GetObject()) {
      const std::string name(bound.name.GetString());
      const int c = Compare(x, ToScalar(bound.value, date));
      if (name == "gte" && c < 0) return false;
      if (name == "gt" && c <= 0) return false;
      if (name == "lte" && c > 0) return false;
      if (name == "lt" && c >= 0) return false;
    }
    return true;
  });
}

bool CompileSort(const Json* sort, std::vector<SortKey>* out, std::vector<std::string>* errors) {
  out->clear();
  if (sort == nullptr) {
    out->push_back({"dateAdded", true});
    return true;
  }
  if (!sort->IsArray()) {
    errors->push_back("sort must be an array");
    return false;
  }
  for (const auto& s : sort->GetArray()) {
    auto field = GetString(s, "field");
    auto dir = GetString(s, "direction");
    if (!field || (dir && *dir != "asc" && *dir != "desc")) {
      errors->push_back("sort items are {field, direction: asc|desc}");
      return false;
    }
    out->push_back({*field, dir && *dir == "desc"});
  }
  if (out->empty()) out->push_back({"dateAdded", true});
  return true;
}

namespace {

int CompareKey(const Json* a, const Json* b, const SortKey& k) {
  const bool date = IsDateField(k.field);
  Scalar sa = a ? ToScalar(*a, date) : Scalar{}, sb = b ? ToScalar(*b, date) : Scalar{};
  const int c = Compare(sa, sb);
  return k.descending ? -c : c;
}

int CompareId(const Json& a, const Json& b) {
  const auto ia = GetString(a, "id").value_or(""), ib = GetString(b, "id").value_or("");
  return ia.compare(ib) < 0 ? -1 : (ia == ib ? 0 : 1);
}

}  // namespace

bool SortLess(const Json& a, const Json& b, const std::vector<SortKey>& keys) {
  for (const auto& k : keys) {
    const int c = CompareKey(FieldOf(a, k.field), FieldOf(b, k.field), k);
    if (c != 0) return c < 0;
  }
  return CompareId(a, b) < 0;
}

JsonDoc CursorOf(const Json& record, const std::vector<SortKey>& keys) {
  JsonDoc cursor(rapidjson::kArrayType);
  auto& a = cursor.GetAllocator();
  for (const auto& k : keys) {
    const Json* v = FieldOf(record, k.field);
    if (v != nullptr && IsDateField(k.field) && v->IsString()) {
      cursor.PushBack(
          Json(static_cast<int64_t>(ParseIsoTime(std::string(v->GetString())).value_or(0))), a);
    } else {
      cursor.PushBack(v ? Json(*v, a) : Json(), a);
    }
  }
  cursor.PushBack(Str(GetString(record, "id").value_or(""), a), a);
  return cursor;
}

bool AfterCursor(const Json& record, const Json& cursor, const std::vector<SortKey>& keys) {
  if (!cursor.IsArray() || cursor.Size() != keys.size() + 1) return true;
  for (size_t i = 0; i < keys.size(); ++i) {
    const int c =
        CompareKey(FieldOf(record, keys[i].field), &cursor[static_cast<unsigned>(i)], keys[i]);
    if (c != 0) return c > 0;
  }
  const auto id = GetString(record, "id").value_or("");
  const auto& last = cursor[static_cast<unsigned>(keys.size())];
  return last.IsString() && id > std::string(last.GetString());
}

}  // namespace ghl::emulator
