#include "connectors/rest/json.h"

#include <openssl/evp.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ghl::connectors::rest {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using mapping::Value;

// A dotted path as a JSON pointer: "a.b" -> "/a/b" (with '~' and '/' escaped).
std::string DottedToPointer(const std::string& path) {
  std::string out = "/";
  for (char c : path) {
    if (c == '.') {
      out += '/';
    } else if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void Flatten(const rapidjson::Value& v, const std::string& name, mapping::Fields& out) {
  if (v.IsObject() && v.MemberCount() > 0) {
    for (const auto& m : v.GetObject()) {
      Flatten(m.value, name + "." + std::string(m.name.GetString(), m.name.GetStringLength()), out);
    }
  } else if (v.IsNull() || v.IsObject()) {
    out[name] = std::monostate{};
  } else if (v.IsString()) {
    out[name] = std::string(v.GetString(), v.GetStringLength());
  } else if (v.IsNumber()) {
    out[name] = v.GetDouble();
  } else if (v.IsBool()) {
    out[name] = v.GetBool();
  } else {  // an array
    const bool strings =
        std::all_of(v.Begin(), v.End(), [](const auto& e) { return e.IsString(); });
    if (!strings) {
      out[name] = Dump(v);
      return;
    }
    mapping::List list;
    for (const auto& e : v.GetArray()) list.emplace_back(e.GetString(), e.GetStringLength());
    out[name] = std::move(list);
  }
}

rapidjson::Value ToJson(const Value& v, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value out;
  if (const auto* s = std::get_if<std::string>(&v)) {
    out.SetString(s->data(), static_cast<rapidjson::SizeType>(s->size()), a);
  } else if (const auto* d = std::get_if<double>(&v)) {
    // Whole numbers as integers, so that 3 is sent as 3 and not 3.0.
    if (std::trunc(*d) == *d && std::fabs(*d) < 9.007199254740992e15) {
      out.SetInt64(static_cast<int64_t>(*d));
    } else {
      out.SetDouble(*d);
    }
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out.SetBool(*b);
  } else if (const auto* l = std::get_if<mapping::List>(&v)) {
    out.SetArray();
    for (const auto& s : *l) {
      out.PushBack(rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a), a);
    }
  }
  return out;
}

// obj[name], created as an object when absent or not an object.
rapidjson::Value& Child(rapidjson::Value& obj, const std::string& name,
                        rapidjson::Document::AllocatorType& a) {
  const auto ref = rapidjson::StringRef(name.data(), name.size());
  auto it = obj.FindMember(ref);
  if (it == obj.MemberEnd()) {
    obj.AddMember(rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), a),
                  rapidjson::Value(rapidjson::kObjectType), a);
    return (obj.MemberEnd() - 1)->value;
  }
  if (!it->value.IsObject()) it->value.SetObject();
  return it->value;
}

void WriteSorted(const rapidjson::Value& v, Writer& w) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](const auto* x, const auto* y) {
      return std::string_view(x->name.GetString(), x->name.GetStringLength()) <
             std::string_view(y->name.GetString(), y->name.GetStringLength());
    });
    w.StartObject();
    for (const auto* m : members) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      WriteSorted(m->value, w);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto& e : v.GetArray()) WriteSorted(e, w);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}

}  // namespace

const rapidjson::Value* Find(const rapidjson::Value& root, const std::string& path) {
  if (path.empty()) return &root;
  const std::string text = path[0] == '/' ? path : DottedToPointer(path);
  const rapidjson::Pointer pointer(text.data(), text.size());
  return pointer.IsValid() ? pointer.Get(root) : nullptr;
}

std::optional<std::string> ScalarText(const rapidjson::Value& v) {
  if (v.IsString()) {
    if (v.GetStringLength() == 0) return std::nullopt;
    return std::string(v.GetString(), v.GetStringLength());
  }
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsNumber() || v.IsBool()) return Dump(v);
  return std::nullopt;
}

mapping::Fields ItemFields(const rapidjson::Value& item) {
  mapping::Fields out;
  for (const auto& m : item.GetObject()) {
    Flatten(m.value, std::string(m.name.GetString(), m.name.GetStringLength()), out);
  }
  return out;
}

std::string Body(const mapping::Fields& fields) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  for (const auto& [name, value] : fields) {
    rapidjson::Value* parent = &doc;
    size_t start = 0;
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', start)) {
      parent = &Child(*parent, name.substr(start, dot - start), a);
      start = dot + 1;
    }
    const std::string leaf = name.substr(start);
    parent->RemoveMember(rapidjson::StringRef(leaf.data(), leaf.size()));
    parent->AddMember(
        rapidjson::Value(leaf.data(), static_cast<rapidjson::SizeType>(leaf.size()), a),
        ToJson(value, a), a);
  }
  return Dump(doc);
}

std::string ContentHash(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  WriteSorted(v, w);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(buffer.GetString(), buffer.GetSize(), digest, &size, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 16 && i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string Dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  v.Accept(w);
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace ghl::connectors::rest
