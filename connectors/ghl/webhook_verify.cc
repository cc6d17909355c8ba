#include "connectors/ghl/webhook_verify.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>

namespace ghl::ghl_client {

struct WebhookVerifier::Key {
  struct Free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  SignatureScheme scheme;
  std::string label;
  std::unique_ptr<EVP_PKEY, Free> pkey;
};

namespace {

// FACTS.md §8.3, verbatim from docs/oauth/WebhookAuthentication.md.
constexpr const char* kGhlRsaPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC\n"
    "Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6\n"
    "dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB\n"
    "csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv\n"
    "uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF\n"
    "3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU\n"
    "J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp\n"
    "IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN\n"
    "h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC\n"
    "HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ\n"
    "PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk\n"
    "T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==\n"
    "-----END PUBLIC KEY-----\n";

// FACTS.md §8.3: third-party quotes of the Webhook Integration Guide; verify against the
// live guide before relying on it (configurable through webhooks.public_keys).
constexpr const char* kGhlEd25519Pem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\n"
    "-----END PUBLIC KEY-----\n";

constexpr size_t kEd25519SignatureBytes = 64;

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Standard base64 with padding, nothing else (no whitespace inside, no URL alphabet).
std::optional<std::vector<unsigned char>> DecodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  const size_t padding = text.size() - (text.find_last_not_of('=') + 1);
  if (padding > 2) return std::nullopt;
  const bool alphabet =
      std::all_of(text.begin(), text.end() - static_cast<long>(padding), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
      });
  if (!alphabet) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);  // DecodeBlock counts padding as zero bytes
  return out;
}

// OpenSSL's reason for the last failure on this thread ("unsupported", "bad base64 decode").
std::string OpenSslReason() {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  ERR_clear_error();
  return reason != nullptr ? reason : "not a public key";
}

// SPKI PEM, or the base64 of SPKI DER alone.
Result<WebhookVerifier::Key> ParseKey(const PublicKeySource& source) {
  const std::string_view text = Trim(source.text);
  EVP_PKEY* raw = nullptr;
  if (text.find("-----BEGIN") != std::string_view::npos) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
    if (bio) raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  } else if (auto der = DecodeBase64(text)) {
    const unsigned char* p = der->data();
    raw = d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size()));
  }
  WebhookVerifier::Key key{SignatureScheme::kEd25519, source.label, {raw, {}}};
  if (raw == nullptr) {
    return Error{fmt::format(
        "{}: not a public key ({}); give a \"-----BEGIN PUBLIC KEY-----\" PEM block or its "
        "base64 body",
        source.label, OpenSslReason())};
  }
  if (EVP_PKEY_is_a(raw, "ED25519")) return key;
  if (EVP_PKEY_is_a(raw, "RSA")) {
    key.scheme = SignatureScheme::kRsaSha256;
    return key;
  }
  return Error{fmt::format("{}: a {} key; webhook keys are Ed25519 or RSA", source.label,
                           EVP_PKEY_get0_type_name(raw))};
}

std::string Fingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return "?";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(der, static_cast<size_t>(len), md, &md_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  std::string out = "sha256:";
  for (unsigned int i = 0; i < 8 && i < md_len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

// A header value that carries a signature: present, not empty, not "N/A".
bool Usable(const std::optional<std::string_view>& value) {
  if (!value) return false;
  const std::string_view v = Trim(*value);
  return !v.empty() && v != "N/A";
}

bool SaysNotAvailable(const std::optional<std::string_view>& value) {
  return value && Trim(*value) == "N/A";
}

}  // namespace

const char* ToString(SignatureScheme scheme) {
  return scheme == SignatureScheme::kEd25519 ? "ed25519" : "rsa-sha256";
}

const char* ToString(SignatureReject reject) {
  switch (reject) {
    case SignatureReject::kNone:
      return "none";
    case SignatureReject::kMissing:
      return "missing";
    case SignatureReject::kNotAvailable:
      return "n/a";
    case SignatureReject::kMalformed:
      return "malformed";
    case SignatureReject::kBadSignature:
      return "bad_signature";
  }
  return "?";
}

const char* BuiltinRsaPublicKeyPem() { return kGhlRsaPem; }
const char* BuiltinEd25519PublicKeyPem() { return kGhlEd25519Pem; }

Result<std::unique_ptr<WebhookVerifier>> WebhookVerifier::Create(const Options& options) {
  std::vector<PublicKeySource> sources;
  if (options.builtin_keys) {
    sources.push_back({"GHL built-in Ed25519 key", kGhlEd25519Pem});
    sources.push_back({"GHL built-in RSA key", kGhlRsaPem});
  }
  sources.insert(sources.end(), options.keys.begin(), options.keys.end());
  std::vector<Key> keys;
  for (const auto& source : sources) {
    auto key = ParseKey(source);
    if (!key.ok()) return key.error();
    keys.push_back(std::move(key).value());
  }
  const bool usable = std::any_of(keys.begin(), keys.end(), [&](const Key& k) {
    return k.scheme == SignatureScheme::kEd25519 || options.accept_rsa;
  });
  if (!usable) {
    return Error{
        "no webhook public key to verify with: keep builtin_keys on, or list keys in "
        "public_keys / public_key_files"};
  }
  return std::unique_ptr<WebhookVerifier>(new WebhookVerifier(std::move(keys), options.accept_rsa));
}

WebhookVerifier::WebhookVerifier(std::vector<Key> keys, bool accept_rsa)
    : keys_(std::move(keys)), accept_rsa_(accept_rsa) {}

WebhookVerifier::~WebhookVerifier() = default;

bool WebhookVerifier::VerifyWith(SignatureScheme scheme, std::string_view body,
                                 const std::vector<unsigned char>& signature) const {
  const EVP_MD* md = scheme == SignatureScheme::kEd25519 ? nullptr : EVP_sha256();
  const auto* data = reinterpret_cast<const unsigned char*>(body.data());
  for (const Key& key : keys_) {
    if (key.scheme != scheme) continue;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    // RSA: PKCS#1 v1.5 is the default padding for RSA signatures in OpenSSL.
    const bool valid =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.pkey.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data, body.size()) == 1;
    ERR_clear_error();  // a failed verification leaves errors on this thread's queue
    if (valid) return true;
  }
  return false;
}

SignatureVerdict WebhookVerifier::Verify(std::string_view body,
                                         const SignatureHeaders& headers) const {
  SignatureVerdict verdict;
  std::string_view text;
  if (Usable(headers.ghl)) {
    text = Trim(*headers.ghl);
  } else if (accept_rsa_ && Usable(headers.wh)) {
    verdict.scheme = SignatureScheme::kRsaSha256;
    text = Trim(*headers.wh);
  } else {
    const bool na = SaysNotAvailable(headers.ghl) || (accept_rsa_ && SaysNotAvailable(headers.wh));
    verdict.reject = na ? SignatureReject::kNotAvailable : SignatureReject::kMissing;
    return verdict;
  }
  const auto signature = DecodeBase64(text);
  if (!signature || (verdict.scheme == SignatureScheme::kEd25519 &&
                     signature->size() != kEd25519SignatureBytes)) {
    verdict.reject = SignatureReject::kMalformed;
    return verdict;
  }
  if (!VerifyWith(verdict.scheme, body, *signature))
    verdict.reject = SignatureReject::kBadSignature;
  return verdict;
}

std::vector<std::string> WebhookVerifier::Describe() const {
  std::vector<std::string> out;
  for (const Key& key : keys_) {
    const bool off = key.scheme == SignatureScheme::kRsaSha256 && !accept_rsa_;
    out.push_back(fmt::format("{} {} ({}){}", ToString(key.scheme), Fingerprint(key.pkey.get()),
                              key.label, off ? ", unused: RSA signatures are switched off" : ""));
  }
  return out;
}

}  // namespace ghl::ghl_client
