#include "emulator/snapshot.h"

#include <fcntl.h>
#include <rapidjson/error/en.h>
#include <rapidjson/filewritestream.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace ghl::emulator {
namespace {

struct NamedCollection {
  const char* name;  // as GET /_emulator/state?object= names it
  Collection World::*member;
};
constexpr NamedCollection kCollections[] = {{"users", &World::users},
                                            {"contacts", &World::contacts},
                                            {"customFields", &World::custom_fields},
                                            {"pipelines", &World::pipelines},
                                            {"opportunities", &World::opportunities},
                                            {"calendars", &World::calendars},
                                            {"appointments", &World::appointments}};

constexpr std::pair<Token::Kind, const char*> kKinds[] = {
    {Token::Kind::kPrivateIntegration, "privateIntegration"},
    {Token::Kind::kLocationOAuth, "locationOAuth"},
    {Token::Kind::kCompanyOAuth, "companyOAuth"}};

const char* KindName(Token::Kind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "privateIntegration";
}

size_t RecordCount(const World& w) {
  size_t n = 0;
  for (const auto& c : kCollections) n += (w.*c.member).size();
  return n;
}

// SplitMix64's finalizer: nearby inputs give unrelated outputs.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string ErrnoText() { return std::error_code(errno, std::generic_category()).message(); }

// ---- writing ----

using Writer = rapidjson::Writer<rapidjson::FileWriteStream>;

void PutString(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void PutInt(Writer& w, const char* key, int64_t value) {
  w.Key(key);
  w.Int64(value);
}

void PutBool(Writer& w, const char* key, bool value) {
  w.Key(key);
  w.Bool(value);
}

void PutStrings(Writer& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const auto& v : values) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

void WriteLocations(Writer& w, const World& world) {
  w.Key("locations");
  w.StartArray();
  for (const auto& [id, l] : world.locations) {
    w.StartObject();
    PutString(w, "id", l.id);
    PutString(w, "name", l.name);
    PutString(w, "companyId", l.company_id);
    PutString(w, "timezone", l.timezone);
    PutBool(w, "allowDuplicateContact", l.allow_duplicate_contact);
    PutStrings(w, "duplicatePriority", l.duplicate_priority);
    w.EndObject();
  }
  w.EndArray();
}

void WriteTokens(Writer& w, const World& world) {
  w.Key("tokens");
  w.StartArray();
  for (const auto& [bearer, t] : world.tokens) {
    w.StartObject();
    PutString(w, "token", bearer);
    PutString(w, "kind", KindName(t.kind));
    PutString(w, "locationId", t.location_id);
    PutString(w, "companyId", t.company_id);
    PutString(w, "clientId", t.client_id);
    PutInt(w, "expiresAtMs", t.expires_at_ms);
    PutBool(w, "revoked", t.revoked);
    w.EndObject();
  }
  w.EndArray();
}

void WriteGrants(Writer& w, const char* key, const std::map<std::string, OAuthGrant>& grants) {
  w.Key(key);
  w.StartArray();
  for (const auto& [value, g] : grants) {
    w.StartObject();
    PutString(w, "value", value);
    PutString(w, "clientId", g.client_id);
    PutString(w, "kind", KindName(g.kind));
    PutString(w, "locationId", g.location_id);
    PutString(w, "companyId", g.company_id);
    PutString(w, "userId", g.user_id);
    PutString(w, "redirectUri", g.redirect_uri);
    PutInt(w, "expiresAtMs", g.expires_at_ms);
    w.EndObject();
  }
  w.EndArray();
}

void WriteOAuth(Writer& w, const OAuthState& oauth) {
  w.Key("oauth");
  w.StartObject();
  w.Key("clients");
  w.StartArray();
  for (const auto& [id, c] : oauth.clients) {
    w.StartObject();
    PutString(w, "id", c.id);
    PutString(w, "secret", c.secret);
    PutString(w, "versionId", c.version_id);
    PutStrings(w, "scopes", c.scopes);
    w.EndObject();
  }
  w.EndArray();
  w.Key("installs");
  w.StartArray();
  for (const auto& [key, i] : oauth.installs) {
    w.StartObject();
    PutString(w, "key", key);  // oauth.cc's InstallKey, kept as it was
    PutString(w, "clientId", i.client_id);
    PutString(w, "locationId", i.location_id);
    PutString(w, "companyId", i.company_id);
    PutString(w, "userId", i.user_id);
    PutInt(w, "installedAtMs", i.installed_at_ms);
    w.EndObject();
  }
  w.EndArray();
  WriteGrants(w, "codes", oauth.codes);
  WriteGrants(w, "refreshTokens", oauth.refresh_tokens);
  w.EndObject();
}

// Empty, or the record that JSON cannot hold (a NaN or infinite number).
std::string WriteCollections(Writer& w, const World& world) {
  w.Key("collections");
  w.StartObject();
  for (const auto& c : kCollections) {
    w.Key(c.name);
    w.StartArray();
    for (const auto& [id, rec] : (world.*c.member).all()) {
      w.StartObject();
      PutString(w, "id", rec.id);
      PutString(w, "locationId", rec.location_id);
      PutInt(w, "addedMs", rec.added_ms);
      PutInt(w, "updatedMs", rec.updated_ms);
      w.Key("doc");
      if (!rec.doc.Accept(w)) return std::string(c.name) + " record " + id + " is not valid JSON";
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return "";
}

std::string WriteWorld(Writer& w, Emulator& emu) {
  const World& world = emu.world();
  w.StartObject();
  w.Key("version");
  w.Int(kSnapshotVersion);
  PutString(w, "savedAt", IsoTime(emu.NowMs()));
  // A string: JSON readers other than ours hold numbers as doubles, which lose bits.
  PutString(w, "idStream", std::to_string(emu.id_stream()));
  WriteLocations(w, world);
  WriteTokens(w, world);
  WriteOAuth(w, world.oauth);
  if (auto problem = WriteCollections(w, world); !problem.empty()) return problem;
  w.EndObject();
  return "";
}

// Makes the rename durable. Best effort: the file itself is already synced.
void SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Writes the world into the open `fd` (which it closes); empty or the problem.
std::string WriteFile(int fd, Emulator& emu) {
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    const std::string err = ErrnoText();
    ::close(fd);
    return err;
  }
  std::vector<char> buffer(1 << 16);
  rapidjson::FileWriteStream out(f, buffer.data(), buffer.size());
  Writer w(out);
  std::string problem = WriteWorld(w, emu);
  out.Flush();
  if (problem.empty() && (std::fflush(f) != 0 || std::ferror(f) || ::fsync(::fileno(f)) != 0)) {
    problem = ErrnoText();
  }
  if (std::fclose(f) != 0 && problem.empty()) problem = ErrnoText();
  return problem;
}

// ---- reading ----

// Reads the members of one object of the snapshot, keeping the first problem with its
// place ("tokens[2].expiresAtMs must be an integer"). Absent optional members read as
// their defaults; present ones must have the right type.
class Reader {
 public:
  Reader(const Json& value, std::string where, std::string* problem)
      : value_(value), where_(std::move(where)), problem_(problem) {
    if (!value.IsObject()) Fail(where_ + " must be an object");
  }

  bool ok() const { return problem_->empty(); }
  std::string At(const char* key) const { return where_.empty() ? key : where_ + "." + key; }
  void Fail(const std::string& problem) {
    if (problem_->empty()) *problem_ = problem;
  }

  std::string String(const char* key, bool required = false) {
    const Json* v = Member(key, required);
    if (v == nullptr) return "";
    if (!v->IsString() || (required && v->GetStringLength() == 0)) {
      Fail(At(key) + " must be a non-empty string");
      return "";
    }
    return {v->GetString(), v->GetStringLength()};
  }
  int64_t Int(const char* key) {
    const Json* v = Member(key, false);
    if (v != nullptr && !v->IsInt64()) Fail(At(key) + " must be an integer");
    return v != nullptr && v->IsInt64() ? v->GetInt64() : 0;
  }
  bool Bool(const char* key) {
    const Json* v = Member(key, false);
    if (v != nullptr && !v->IsBool()) Fail(At(key) + " must be true or false");
    return v != nullptr && v->IsBool() && v->GetBool();
  }
  std::optional<std::vector<std::string>> Strings(const char* key) {
    const Json* v = Member(key, false);
    if (v == nullptr) return std::nullopt;
    std::vector<std::string> out;
    bool strings = v->IsArray();
    for (rapidjson::SizeType i = 0; strings && i < v->Size(); ++i) {
      strings = (*v)[i].IsString();
      if (strings) out.emplace_back((*v)[i].GetString(), (*v)[i].GetStringLength());
    }
    if (!strings) Fail(At(key) + " must be a list of strings");
    return out;
  }
  Token::Kind Kind(const char* key) {
    const std::string name = String(key, true);
    for (const auto& [k, n] : kKinds) {
      if (name == n) return k;
    }
    Fail(At(key) + " must be one of: privateIntegration locationOAuth companyOAuth");
    return Token::Kind::kPrivateIntegration;
  }
  // Null when absent (and not required) or of another type.
  const Json* Array(const char* key) { return Typed(key, false, rapidjson::kArrayType, "a list"); }
  const Json* Object(const char* key, bool required) {
    return Typed(key, required, rapidjson::kObjectType, "an object");
  }

 private:
  const Json* Member(const char* key, bool required) {
    if (!value_.IsObject()) return nullptr;
    auto it = value_.FindMember(key);
    if (it != value_.MemberEnd()) return &it->value;
    if (required) Fail(At(key) + " is missing");
    return nullptr;
  }
  const Json* Typed(const char* key, bool required, rapidjson::Type type, const char* what) {
    const Json* v = Member(key, required);
    if (v == nullptr) return nullptr;
    if (v->GetType() == type) return v;
    Fail(At(key) + " must be " + what);
    return nullptr;
  }

  const Json& value_;
  std::string where_;
  std::string* problem_;
};

// Calls fn(item, "key[i]") for each item of the list `key`, until a problem.
template <typename F>
void Each(Reader& r, const char* key, F fn) {
  const Json* list = r.Array(key);
  if (list == nullptr) return;
  for (rapidjson::SizeType i = 0; i < list->Size() && r.ok(); ++i) {
    fn((*list)[i], r.At(key) + "[" + std::to_string(i) + "]");
  }
}

template <typename T>
void Insert(Reader& r, std::map<std::string, T>& map, const std::string& key, T value,
            const std::string& where) {
  if (!r.ok()) return;
  if (!map.emplace(key, std::move(value)).second) r.Fail(where + ": '" + key + "' appears twice");
}

void ReadLocation(const Json& v, const std::string& where, World* w, std::string* problem) {
  Reader r(v, where, problem);
  Location l;
  l.id = r.String("id", true);
  l.name = r.String("name");
  l.company_id = r.String("companyId");
  if (auto tz = r.String("timezone"); !tz.empty()) l.timezone = tz;
  l.allow_duplicate_contact = r.Bool("allowDuplicateContact");
  if (auto prio = r.Strings("duplicatePriority")) l.duplicate_priority = *prio;
  Insert(r, w->locations, l.id, l, where + ".id");
}

void ReadToken(const Json& v, const std::string& where, World* w, std::string* problem) {
  Reader r(v, where, problem);
  const std::string bearer = r.String("token", true);
  Token t;
  t.kind = r.Kind("kind");
  t.location_id = r.String("locationId");
  t.company_id = r.String("companyId");
  t.client_id = r.String("clientId");
  t.expires_at_ms = r.Int("expiresAtMs");
  t.revoked = r.Bool("revoked");
  Insert(r, w->tokens, bearer, t, where + ".token");
}

void ReadClient(const Json& v, const std::string& where, OAuthState* o, std::string* problem) {
  Reader r(v, where, problem);
  OAuthClient c;
  c.id = r.String("id", true);
  c.secret = r.String("secret", true);
  c.version_id = r.String("versionId");
  c.scopes = r.Strings("scopes").value_or(std::vector<std::string>{});
  Insert(r, o->clients, c.id, c, where + ".id");
}

void ReadInstall(const Json& v, const std::string& where, OAuthState* o, std::string* problem) {
  Reader r(v, where, problem);
  const std::string key = r.String("key", true);
  OAuthInstall i;
  i.client_id = r.String("clientId", true);
  i.location_id = r.String("locationId");
  i.company_id = r.String("companyId");
  i.user_id = r.String("userId");
  i.installed_at_ms = r.Int("installedAtMs");
  Insert(r, o->installs, key, i, where + ".key");
}

void ReadGrant(const Json& v, const std::string& where, std::map<std::string, OAuthGrant>* grants,
               std::string* problem) {
  Reader r(v, where, problem);
  const std::string value = r.String("value", true);
  OAuthGrant g;
  g.client_id = r.String("clientId", true);
  g.kind = r.Kind("kind");
  g.location_id = r.String("locationId");
  g.company_id = r.String("companyId");
  g.user_id = r.String("userId");
  g.redirect_uri = r.String("redirectUri");
  g.expires_at_ms = r.Int("expiresAtMs");
  Insert(r, *grants, value, g, where + ".value");
}

void ReadOAuth(Reader& top, OAuthState* o, std::string* problem) {
  const Json* oauth = top.Object("oauth", false);
  if (oauth == nullptr) return;
  Reader r(*oauth, "oauth", problem);
  Each(r, "clients", [&](const Json& v, const std::string& at) { ReadClient(v, at, o, problem); });
  Each(r, "installs",
       [&](const Json& v, const std::string& at) { ReadInstall(v, at, o, problem); });
  Each(r, "codes",
       [&](const Json& v, const std::string& at) { ReadGrant(v, at, &o->codes, problem); });
  Each(r, "refreshTokens", [&](const Json& v, const std::string& at) {
    ReadGrant(v, at, &o->refresh_tokens, problem);
  });
}

// Loaded records are put with no lag: search sees them at once, as after seeding.
void ReadRecord(const Json& v, const std::string& where, Collection* c, int64_t now,
                std::string* problem) {
  Reader r(v, where, problem);
  Record rec;
  rec.id = r.String("id", true);
  rec.location_id = r.String("locationId");
  rec.added_ms = r.Int("addedMs");
  rec.updated_ms = r.Int("updatedMs");
  const Json* doc = r.Object("doc", true);
  if (!r.ok()) return;
  if (c->Find(rec.id) != nullptr) return r.Fail(where + ".id: '" + rec.id + "' appears twice");
  rec.doc = Copy(*doc);
  c->Put(std::move(rec), now, /*lag_ms=*/0);
}

void ReadCollections(Reader& top, World* w, int64_t now, std::string* problem) {
  const Json* collections = top.Object("collections", false);
  if (collections == nullptr) return;
  Reader r(*collections, "collections", problem);
  for (const auto& m : collections->GetObject()) {
    const std::string name(m.name.GetString(), m.name.GetStringLength());
    bool known = false;
    for (const auto& c : kCollections) known = known || name == c.name;
    if (!known) r.Fail(r.At(name.c_str()) + " is not an object the emulator has");
  }
  for (const auto& c : kCollections) {
    Collection* target = &(w->*c.member);
    Each(r, c.name,
         [&](const Json& v, const std::string& at) { ReadRecord(v, at, target, now, problem); });
  }
}

// Fills `w` from the parsed snapshot; empty or the first problem.
std::string ReadWorld(const JsonDoc& doc, int64_t now, World* w, uint64_t* id_stream) {
  std::string problem;
  Reader top(doc, "", &problem);
  const std::string stream = top.String("idStream", true);
  if (top.ok()) {
    auto [end, ec] = std::from_chars(stream.data(), stream.data() + stream.size(), *id_stream);
    if (ec != std::errc() || end != stream.data() + stream.size()) {
      top.Fail("idStream must be a decimal number, got '" + stream + "'");
    }
  }
  Each(top, "locations",
       [&](const Json& v, const std::string& at) { ReadLocation(v, at, w, &problem); });
  Each(top, "tokens", [&](const Json& v, const std::string& at) { ReadToken(v, at, w, &problem); });
  if (top.ok()) ReadOAuth(top, &w->oauth, &problem);
  if (top.ok()) ReadCollections(top, w, now, &problem);
  return problem;
}

std::string ReadVersion(const JsonDoc& doc) {
  if (!doc.IsObject()) return "not a ghl-emulator snapshot: the top level is not a JSON object";
  auto v = doc.FindMember("version");
  if (v == doc.MemberEnd()) return "not a ghl-emulator snapshot: it has no \"version\"";
  if (!v->value.IsInt() || v->value.GetInt() != kSnapshotVersion) {
    return "unknown snapshot version " + Dump(v->value) + " (this ghl-emulator reads version " +
           std::to_string(kSnapshotVersion) + ")";
  }
  return "";
}

std::string ReadText(const std::filesystem::path& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read: " + ErrnoText();
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return "cannot read: " + ErrnoText();
  *text = std::move(buf).str();
  return "";
}

}  // namespace

Result<size_t> LoadSnapshot(Emulator& emu, const std::filesystem::path& path) {
  const auto fail = [&](const std::string& what) {
    return Error{"snapshot " + path.string() + ": " + what};
  };
  std::string text;
  if (auto problem = ReadText(path, &text); !problem.empty()) return fail(problem);
  JsonDoc doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return fail("malformed JSON at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
                rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (auto problem = ReadVersion(doc); !problem.empty()) return fail(problem);
  World world;
  uint64_t stream = 0;
  if (auto problem = ReadWorld(doc, emu.NowMs(), &world, &stream); !problem.empty()) {
    return fail(problem);
  }
  const size_t records = RecordCount(world);
  emu.world() = std::move(world);
  // Inferred: GHL's ids never repeat. The generator's position is not saved; ids go on in
  // a new sequence derived from the saved one and the seed, so a restart with the same
  // seed does not hand out the loaded ids again, and the same file and seed give the same
  // new ids.
  emu.StartIdStream(Mix(stream ^ Mix(emu.options().seed)));
  return records;
}

Result<size_t> SaveSnapshot(Emulator& emu, const std::filesystem::path& path) {
  const std::string tmp = path.string() + ".tmp";
  const auto fail = [&](const std::string& what) {
    ::unlink(tmp.c_str());
    return Error{"snapshot " + path.string() + ": " + what};
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error{"snapshot " + path.string() + ": cannot create " + tmp + ": " + ErrnoText()};
  // The file holds tokens and client secrets: owner-only, whatever the umask or an older
  // .tmp left behind.
  if (::fchmod(fd, 0600) != 0) {
    const std::string err = ErrnoText();
    ::close(fd);
    return fail("cannot set the mode of " + tmp + ": " + err);
  }
  if (auto problem = WriteFile(fd, emu); !problem.empty()) {
    return fail("cannot write " + tmp + ": " + problem);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("cannot rename " + tmp + ": " + ErrnoText());
  }
  SyncDirectory(path.parent_path());
  return RecordCount(emu.world());
}

std::string LoadedWorldSummary(const World& world) {
  std::string out;
  for (const auto& [id, loc] : world.locations) {
    out += "location " + id + " (company " + loc.company_id + ")\n";
    for (const auto& [bearer, t] : world.tokens) {
      if (t.kind == Token::Kind::kPrivateIntegration && t.location_id == id && !t.revoked) {
        out += "  token (PIT): " + bearer + "\n";
      }
    }
  }
  return out;
}

}  // namespace ghl::emulator
