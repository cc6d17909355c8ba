// The declarative configuration schema: one Table per section, one Field per key.
//
// A Table drives everything about its section (the fluent-bit idea): parsing into a
// plain struct, type and range checks, the unknown-key error with its "did you mean",
// required keys, `${ENV}` interpolation, the `<key>_file` variant of secrets, and the
// reference documentation (defaults are read from a default-constructed struct, so the
// docs cannot disagree with the code). Every problem is recorded with file, line, column
// and key path, and the walk goes on so that all problems are reported at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "core/secret.h"

namespace ghl::config {

// Looks up an environment variable; injectable so tests do not touch the process env.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
  bool operator==(const ListenAddress&) const = default;
};

std::string FormatDuration(std::chrono::milliseconds d);
// The closest of `candidates` to `word`, if close enough to be a likely typo.
std::optional<std::string> DidYouMean(const std::string& word,
                                      const std::vector<std::string>& candidates);

// The state of one walk over one file.
class Context {
 public:
  Context(std::string file, std::filesystem::path base_dir, EnvLookup env, Diagnostics* out);

  // Records a problem at `at` (its line and column) under the current key path.
  void Error(const YAML::Node& at, const std::string& message);
  void Error(const YAML::Mark& at, const std::string& message);

  // Enters a key ("ghl") or an index ("[0]") for the duration of the returned scope.
  class Scope {
   public:
    Scope(Context* ctx, std::string segment);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Context* ctx_;
    size_t previous_size_;
  };
  Scope Enter(std::string segment) { return Scope(this, std::move(segment)); }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }
  const EnvLookup& env() const { return env_; }

  // The scalar text with ${VAR} / ${VAR:-default} expanded ("$$" is a literal "$").
  // Reports and returns nullopt for a non-scalar or a variable that is not set. When
  // `secret` is set, no error message quotes the value.
  std::optional<std::string> Scalar(const YAML::Node& node, bool secret = false);
  std::filesystem::path Resolve(const std::string& path) const;

 private:
  friend class Scope;
  std::string file_;
  std::filesystem::path base_dir_;
  EnvLookup env_;
  Diagnostics* out_;
  std::string path_;
};

// One row of the reference documentation.
struct DocRow {
  std::string key;
  std::string type;
  std::string default_value;
  std::string description;
};

// The reference's Markdown table of `rows`: | <first_column> | type | default | description |.
std::string MarkdownTable(const std::vector<DocRow>& rows, const std::string& first_column = "key");

template <typename T>
struct Field {
  std::string key;
  std::string type;
  std::string help;
  bool required = false;
  // Secret fields also accept `<key>_file`: a path whose contents (one trailing newline
  // removed) are the value, for systemd's LoadCredential= and similar.
  std::function<void(T&, const std::string& contents)> from_file;
  std::function<std::string(const T&)> show_default;
  std::function<void(T&, const YAML::Node&, Context&)> parse;
  std::function<void(std::vector<DocRow>&, const std::string& prefix)> nested;

  Field Required() && {
    required = true;
    return std::move(*this);
  }
};

template <typename T>
class Table {
 public:
  using Check = std::function<void(T&, const YAML::Node&, Context&)>;
  explicit Table(std::vector<Field<T>> fields, Check check = {})
      : fields_(std::move(fields)), check_(std::move(check)) {}
  // A table whose other keys are someone else's to check (a connector's block: the
  // connector's own table validates the rest).
  Table&& AllowOtherKeys() && {
    allow_other_keys_ = true;
    return std::move(*this);
  }

  void Parse(T& out, const YAML::Node& node, Context& ctx) const;
  void Document(std::vector<DocRow>& rows, const std::string& prefix) const;
  std::vector<std::string> Keys() const;

 private:
  std::vector<Field<T>> fields_;
  Check check_;
  bool allow_other_keys_ = false;
};

// ---- scalar parsers: each reports its own error and returns nullopt on failure ----
std::optional<std::string> ParseString(const YAML::Node& n, Context& ctx, bool allow_empty);
std::optional<int64_t> ParseInt(const YAML::Node& n, Context& ctx, int64_t min, int64_t max);
std::optional<bool> ParseBool(const YAML::Node& n, Context& ctx);
std::optional<std::chrono::milliseconds> ParseDuration(const YAML::Node& n, Context& ctx,
                                                       std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max);
std::optional<ListenAddress> ParseListen(const YAML::Node& n, Context& ctx);
std::optional<std::string> ParseUrl(const YAML::Node& n, Context& ctx);
std::optional<std::string> ParseEnum(const YAML::Node& n, Context& ctx,
                                     const std::vector<std::string>& choices);
std::optional<std::filesystem::path> ParsePath(const YAML::Node& n, Context& ctx);
std::optional<Secret> ParseSecret(const YAML::Node& n, Context& ctx);

// ---- field builders ----
namespace fields {

inline std::string Quoted(const std::string& s) { return s.empty() ? "" : "`" + s + "`"; }

template <typename T>
Field<T> String(std::string key, std::string T::*m, std::string help, bool allow_empty = false) {
  return {std::move(key),
          "string",
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted(t.*m); },
          [m, allow_empty](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseString(n, c, allow_empty)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Int(std::string key, int64_t T::*m, int64_t min, int64_t max, std::string help) {
  return {std::move(key),
          "integer " + std::to_string(min) + ".." + std::to_string(max),
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted(std::to_string(t.*m)); },
          [m, min, max](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseInt(n, c, min, max)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Bool(std::string key, bool T::*m, std::string help) {
  return {std::move(key),
          "boolean",
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted(t.*m ? "true" : "false"); },
          [m](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseBool(n, c)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Duration(std::string key, std::chrono::milliseconds T::*m, std::chrono::milliseconds min,
                  std::chrono::milliseconds max, std::string help) {
  return {std::move(key),
          "duration " + FormatDuration(min) + ".." + FormatDuration(max),
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted(FormatDuration(t.*m)); },
          [m, min, max](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseDuration(n, c, min, max)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Listen(std::string key, ListenAddress T::*m, std::string help) {
  return {std::move(key),
          "host:port",
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted((t.*m).ToString()); },
          [m](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseListen(n, c)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Url(std::string key, std::string T::*m, std::string help) {
  return {std::move(key),
          "URL",
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted(t.*m); },
          [m](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseUrl(n, c)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Enum(std::string key, std::string T::*m, std::vector<std::string> choices,
              std::string help) {
  std::string type = "one of:";
  for (const auto& ch : choices) type += " `" + ch + "`";
  return {std::move(key),
          std::move(type),
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted(t.*m); },
          [m, choices](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseEnum(n, c, choices)) t.*m = *v;
          }};
}

template <typename T>
Field<T> Path(std::string key, std::filesystem::path T::*m, std::string help) {
  return {std::move(key),
          "path",
          std::move(help),
          false,
          {},
          [m](const T& t) { return Quoted((t.*m).string()); },
          [m](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParsePath(n, c)) t.*m = *v;
          }};
}

template <typename T>
Field<T> SecretValue(std::string key, Secret T::*m, std::string help) {
  return {std::move(key),
          "secret",
          std::move(help),
          false,
          [m](T& t, const std::string& contents) { t.*m = Secret(contents); },
          [](const T&) { return std::string(); },
          [m](T& t, const YAML::Node& n, Context& c) {
            if (auto v = ParseSecret(n, c)) t.*m = *v;
          }};
}

template <typename T>
Field<T> StringList(std::string key, std::vector<std::string> T::*m, std::string help) {
  return {std::move(key),
          "list of strings",
          std::move(help),
          false,
          {},
          [m](const T& t) {
            std::string out;
            for (const auto& s : t.*m) out += (out.empty() ? "" : ", ") + s;
            return out.empty() ? std::string() : "`[" + out + "]`";
          },
          [m](T& t, const YAML::Node& n, Context& c) {
            if (!n.IsSequence()) {
              c.Error(n, "expected a list");
              return;
            }
            (t.*m).clear();
            for (size_t i = 0; i < n.size(); ++i) {
              auto scope = c.Enter("[" + std::to_string(i) + "]");
              if (auto v = ParseString(n[i], c, false)) (t.*m).push_back(*v);
            }
          }};
}

template <typename T>
Field<T> DurationList(std::string key, std::vector<std::chrono::milliseconds> T::*m,
                      std::chrono::milliseconds min, std::chrono::milliseconds max,
                      std::string help) {
  return {std::move(key),
          "list of durations " + FormatDuration(min) + ".." + FormatDuration(max),
          std::move(help),
          false,
          {},
          [m](const T& t) {
            std::string out;
            for (const auto& d : t.*m) out += (out.empty() ? "" : ", ") + FormatDuration(d);
            return out.empty() ? std::string() : "`[" + out + "]`";
          },
          [m, min, max](T& t, const YAML::Node& n, Context& c) {
            if (!n.IsSequence()) {
              c.Error(n, "expected a list");
              return;
            }
            (t.*m).clear();
            for (size_t i = 0; i < n.size(); ++i) {
              auto scope = c.Enter("[" + std::to_string(i) + "]");
              if (auto v = ParseDuration(n[i], c, min, max)) (t.*m).push_back(*v);
            }
          }};
}

template <typename T, typename S>
Field<T> Section(std::string key, S T::*m, const Table<S>& table, std::string help) {
  std::string k = key;
  return {std::move(key),
          "section",
          std::move(help),
          false,
          {},
          [](const T&) { return std::string(); },
          [m, &table](T& t, const YAML::Node& n, Context& c) { table.Parse(t.*m, n, c); },
          [k, &table](std::vector<DocRow>& rows, const std::string& prefix) {
            table.Document(rows, prefix + k + ".");
          }};
}

template <typename T, typename E>
Field<T> List(std::string key, std::vector<E> T::*m, const Table<E>& table, std::string help) {
  std::string k = key;
  return {std::move(key),
          "list",
          std::move(help),
          false,
          {},
          [](const T&) { return std::string(); },
          [m, &table](T& t, const YAML::Node& n, Context& c) {
            if (!n.IsSequence()) {
              if (!n.IsNull()) c.Error(n, "expected a list (lines starting with '- ')");
              return;
            }
            for (size_t i = 0; i < n.size(); ++i) {
              auto scope = c.Enter("[" + std::to_string(i) + "]");
              E e{};
              table.Parse(e, n[i], c);
              (t.*m).push_back(std::move(e));
            }
          },
          [k, &table](std::vector<DocRow>& rows, const std::string& prefix) {
            table.Document(rows, prefix + k + "[].");
          }};
}

// A map from a user-chosen name to a record; `name_of` receives the name.
template <typename T, typename E>
Field<T> Map(std::string key, std::map<std::string, E> T::*m, std::string E::*name_of,
             const Table<E>& table, std::string help) {
  std::string k = key;
  return {std::move(key),
          "map of name to section",
          std::move(help),
          false,
          {},
          [](const T&) { return std::string(); },
          [m, name_of, &table](T& t, const YAML::Node& n, Context& c) {
            if (!n.IsMap()) {
              if (!n.IsNull()) c.Error(n, "expected a mapping of names to sections");
              return;
            }
            for (const auto& kv : n) {
              const std::string name = kv.first.Scalar();
              auto scope = c.Enter("." + name);
              E e{};
              e.*name_of = name;
              table.Parse(e, kv.second, c);
              (t.*m)[name] = std::move(e);
            }
          },
          [k, &table](std::vector<DocRow>& rows, const std::string& prefix) {
            table.Document(rows, prefix + k + ".<name>.");
          }};
}

}  // namespace fields

// Reads and parses a YAML file whose top level must be a mapping; reports an unreadable
// file, a syntax error or another top level into `errors`.
std::optional<YAML::Node> ReadYamlFile(const std::filesystem::path& path, Diagnostics& errors);

// Reads a `<key>_file` secret: the whole file, one trailing newline removed.
std::optional<std::string> ReadSecretFile(const YAML::Node& n, Context& ctx);

// The Markdown table of every key of `table`.
template <typename T>
std::string MarkdownTable(const Table<T>& table) {
  std::vector<DocRow> rows;
  table.Document(rows, "");
  return MarkdownTable(rows);
}

template <typename T>
std::vector<std::string> Table<T>::Keys() const {
  std::vector<std::string> keys;
  for (const auto& f : fields_) {
    keys.push_back(f.key);
    if (f.from_file) keys.push_back(f.key + "_file");
  }
  return keys;
}

template <typename T>
void Table<T>::Parse(T& out, const YAML::Node& node, Context& ctx) const {
  if (node.IsNull()) {
    // An empty section ("ghl:" with nothing under it) means "all defaults".
  } else if (!node.IsMap()) {
    ctx.Error(node, "expected a mapping (key: value lines)");
    return;
  }
  std::map<std::string, const Field<T>*> seen;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      const std::string segment = ctx.path().empty() ? key : "." + key;
      auto scope = ctx.Enter(segment);
      const Field<T>* field = nullptr;
      bool via_file = false;
      for (const auto& f : fields_) {
        if (f.key == key) field = &f;
        if (f.from_file && f.key + "_file" == key) field = &f, via_file = true;
      }
      if (field == nullptr && allow_other_keys_) continue;
      if (field == nullptr) {
        std::string msg = "unknown key '" + key + "'";
        if (auto guess = DidYouMean(key, Keys())) msg += "; did you mean '" + *guess + "'?";
        ctx.Error(kv.first, msg);
        continue;
      }
      if (seen.count(key) > 0) {
        ctx.Error(kv.first, "key '" + key + "' appears more than once");
        continue;
      }
      if (field->from_file && seen.count(via_file ? field->key : field->key + "_file") > 0) {
        ctx.Error(kv.first,
                  "give either '" + field->key + "' or '" + field->key + "_file', not both");
        continue;
      }
      seen[key] = field;
      if (via_file) {
        if (auto contents = ReadSecretFile(kv.second, ctx)) field->from_file(out, *contents);
      } else {
        field->parse(out, kv.second, ctx);
      }
    }
  }
  for (const auto& f : fields_) {
    if (f.required && seen.count(f.key) == 0 && seen.count(f.key + "_file") == 0) {
      std::string what = "missing required key '" + f.key + "'";
      if (f.from_file) what += " (or '" + f.key + "_file')";
      ctx.Error(node, what);
    }
  }
  if (check_) check_(out, node, ctx);
}

template <typename T>
void Table<T>::Document(std::vector<DocRow>& rows, const std::string& prefix) const {
  const T defaults{};
  for (const auto& f : fields_) {
    std::string key = prefix + f.key;
    if (f.from_file) key += "` / `" + prefix + f.key + "_file";
    std::string def = f.required ? "required" : f.show_default(defaults);
    if (!f.nested) rows.push_back({key, f.type, def, f.help});
    if (f.nested) {
      rows.push_back({key, f.type, f.required ? "required" : "", f.help});
      f.nested(rows, prefix);
    }
  }
}

}  // namespace ghl::config
