#include "config/schema.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace ghl::config {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string ListenAddress::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Describe(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  return "'" + n.Scalar() + "'";
}

}  // namespace

std::optional<std::string> DidYouMean(const std::string& word,
                                      const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  const size_t allowed = std::max<size_t>(2, word.size() / 3);
  if (best && best_distance <= allowed) return best;
  return std::nullopt;
}

Context::Context(std::string file, std::filesystem::path base_dir, EnvLookup env, Diagnostics* out)
    : file_(std::move(file)), base_dir_(std::move(base_dir)), env_(std::move(env)), out_(out) {}

void Context::Error(const YAML::Node& at, const std::string& message) { Error(at.Mark(), message); }

void Context::Error(const YAML::Mark& at, const std::string& message) {
  Diagnostic d;
  d.file = file_;
  if (at.line >= 0) {
    d.line = at.line + 1;
    d.column = at.column + 1;
  }
  d.path = path_;
  d.message = message;
  out_->push_back(std::move(d));
}

Context::Scope::Scope(Context* ctx, std::string segment)
    : ctx_(ctx), previous_size_(ctx->path_.size()) {
  ctx_->path_ += segment;
}

Context::Scope::~Scope() { ctx_->path_.resize(previous_size_); }

std::optional<std::string> Context::Scalar(const YAML::Node& node, bool secret) {
  if (!node.IsScalar()) {
    Error(node, "expected a single value, got " + (secret ? "something else" : Describe(node)));
    return std::nullopt;
  }
  const std::string& raw = node.Scalar();
  std::string out;
  bool ok = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '$') {
      out += raw[i];
      continue;
    }
    if (i + 1 < raw.size() && raw[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= raw.size() || raw[i + 1] != '{') {
      out += '$';
      continue;
    }
    const size_t close = raw.find('}', i + 2);
    if (close == std::string::npos) {
      Error(node, "unterminated '${' (write '$$' for a literal '$')");
      return std::nullopt;
    }
    std::string inner = raw.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (const size_t dash = inner.find(":-"); dash != std::string::npos) {
      fallback = inner.substr(dash + 2);
      inner.resize(dash);
    }
    const bool valid_name =
        !inner.empty() && std::all_of(inner.begin(), inner.end(), [](unsigned char ch) {
          return std::isalnum(ch) || ch == '_';
        });
    if (!valid_name) {
      Error(node, "'${" + inner + "}' is not a valid environment variable reference");
      ok = false;
    } else if (auto v = env_(inner); v && !v->empty()) {
      out += *v;
    } else if (fallback) {
      out += *fallback;
    } else {
      Error(node, "environment variable " + inner + " is not set; export it or use ${" + inner +
                      ":-default}");
      ok = false;
    }
    i = close;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::filesystem::path Context::Resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative()) p = base_dir_ / p;
  return p.lexically_normal();
}

std::optional<std::string> ParseString(const YAML::Node& n, Context& ctx, bool allow_empty) {
  auto v = ctx.Scalar(n);
  if (v && v->empty() && !allow_empty) {
    ctx.Error(n, "must not be empty");
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseInt(const YAML::Node& n, Context& ctx, int64_t min, int64_t max) {
  auto v = ctx.Scalar(n);
  if (!v) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE) {
    ctx.Error(n, "expected a whole number, got '" + *v + "'");
    return std::nullopt;
  }
  if (parsed < min || parsed > max) {
    ctx.Error(n, std::to_string(parsed) + " is out of range; allowed " + std::to_string(min) +
                     ".." + std::to_string(max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<bool> ParseBool(const YAML::Node& n, Context& ctx) {
  auto v = ctx.Scalar(n);
  if (!v) return std::nullopt;
  if (*v == "true") return true;
  if (*v == "false") return false;
  ctx.Error(n, "expected true or false, got '" + *v + "'");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ParseDuration(const YAML::Node& n, Context& ctx,
                                                       std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max) {
  auto v = ctx.Scalar(n);
  if (!v) return std::nullopt;
  const std::string& s = *v;
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    size_t k = j;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    const std::string digits = s.substr(i, j - i), unit = s.substr(j, k - j);
    int64_t scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60'000;
    if (unit == "h") scale = 3'600'000;
    if (unit == "d") scale = 86'400'000;
    if (digits.empty() || digits.size() > 12 || scale == 0) {
      ctx.Error(n, "expected a duration such as 250ms, 30s, 5m, 1h or 1m30s, got '" + s + "'");
      return std::nullopt;
    }
    total += std::stoll(digits) * scale;
    any = true;
    i = k;
  }
  if (!any) {
    ctx.Error(n, "expected a duration such as 250ms, 30s, 5m, 1h or 1m30s, got '" + s + "'");
    return std::nullopt;
  }
  const std::chrono::milliseconds d(total);
  if (d < min || d > max) {
    ctx.Error(n,
              s + " is out of range; allowed " + FormatDuration(min) + ".." + FormatDuration(max));
    return std::nullopt;
  }
  return d;
}

std::optional<ListenAddress> ParseListen(const YAML::Node& n, Context& ctx) {
  auto v = ctx.Scalar(n);
  if (!v) return std::nullopt;
  const std::string& s = *v;
  ListenAddress addr;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    const size_t close = s.find("]:");
    if (close != std::string::npos) addr.host = s.substr(1, close - 1), port = s.substr(close + 2);
  } else if (const size_t colon = s.rfind(':'); colon != std::string::npos) {
    addr.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  const bool port_ok =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) &&
      std::stoi(port) <= 65535;
  if (addr.host.empty() || !port_ok) {
    ctx.Error(n, "expected host:port such as 127.0.0.1:9464 or [::1]:9464, got '" + s + "'");
    return std::nullopt;
  }
  addr.port = static_cast<uint16_t>(std::stoi(port));
  return addr;
}

std::optional<std::string> ParseUrl(const YAML::Node& n, Context& ctx) {
  auto v = ctx.Scalar(n);
  if (!v) return std::nullopt;
  std::string s = *v;
  const bool scheme_ok = s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
  const size_t host_start = s.find("://") + 3;
  if (!scheme_ok || s.size() <= host_start || s[host_start] == '/') {
    ctx.Error(n, "expected an http:// or https:// URL, got '" + s + "'");
    return std::nullopt;
  }
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::optional<std::string> ParseEnum(const YAML::Node& n, Context& ctx,
                                     const std::vector<std::string>& choices) {
  auto v = ctx.Scalar(n);
  if (!v) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
  std::string msg = "'" + *v + "' is not one of:";
  for (const auto& c : choices) msg += " " + c;
  if (auto guess = DidYouMean(*v, choices)) msg += "; did you mean '" + *guess + "'?";
  ctx.Error(n, msg);
  return std::nullopt;
}

std::optional<std::filesystem::path> ParsePath(const YAML::Node& n, Context& ctx) {
  auto v = ParseString(n, ctx, false);
  if (!v) return std::nullopt;
  return ctx.Resolve(*v);
}

std::optional<Secret> ParseSecret(const YAML::Node& n, Context& ctx) {
  auto v = ctx.Scalar(n, /*secret=*/true);
  if (!v) return std::nullopt;
  if (v->empty()) {
    ctx.Error(n, "must not be empty");
    return std::nullopt;
  }
  return Secret(*v);
}

std::optional<YAML::Node> ReadYamlFile(const std::filesystem::path& path, Diagnostics& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({path.string(), 0, 0, "",
                      std::string("cannot read file: ") +
                          std::strerror(errno)});  // NOLINT(concurrency-mt-unsafe)
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  try {
    YAML::Node root = YAML::Load(buf.str());
    if (root.IsNull()) {
      errors.push_back({path.string(), 0, 0, "", "file is empty; expected a mapping of sections"});
      return std::nullopt;
    }
    if (!root.IsMap()) {
      errors.push_back({path.string(), root.Mark().line + 1, root.Mark().column + 1, "",
                        "expected a mapping of sections (key: value) at the top level"});
      return std::nullopt;
    }
    return root;
  } catch (const YAML::Exception& e) {
    errors.push_back(
        {path.string(), e.mark.line + 1, e.mark.column + 1, "", "invalid YAML: " + e.msg});
    return std::nullopt;
  }
}

std::optional<std::string> ReadSecretFile(const YAML::Node& n, Context& ctx) {
  auto path = ParsePath(n, ctx);
  if (!path) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    ctx.Error(n, "cannot read secret file " + path->string() + ": " +
                     std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string contents = buf.str();
  if (!contents.empty() && contents.back() == '\n') contents.pop_back();
  if (!contents.empty() && contents.back() == '\r') contents.pop_back();
  if (contents.empty()) {
    ctx.Error(n, "secret file " + path->string() + " is empty");
    return std::nullopt;
  }
  return contents;
}

std::string MarkdownTable(const std::vector<DocRow>& rows, const std::string& first_column) {
  std::string out = "| " + first_column + " | type | default | description |\n|---|---|---|---|\n";
  for (const auto& r : rows) {
    out +=
        "| `" + r.key + "` | " + r.type + " | " + r.default_value + " | " + r.description + " |\n";
  }
  return out;
}

}  // namespace ghl::config
