// Webhook signature verification over the raw body bytes (FACTS.md §8.3). Pure: no IO.
//
//   x-ghl-signature: base64(Ed25519 signature of the body)            preferred
//   x-wh-signature:  base64(RSA-SHA256 PKCS#1 v1.5 signature of it)    legacy, can be refused
//
// Like GHL's SDKs, a usable x-ghl-signature decides alone: when it is present it must verify,
// and x-wh-signature is not consulted (no downgrade to the legacy scheme). A header that is
// empty or holds the literal "N/A" (third-party report) counts as absent. A signature is
// valid when any configured key of its scheme verifies it, so during a key rotation the old
// and the new key are both accepted.
//
// Thread-safety: a WebhookVerifier is immutable after Create; Verify may run on any number
// of threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ghl::ghl_client {

enum class SignatureScheme { kEd25519, kRsaSha256 };
const char* ToString(SignatureScheme scheme);  // "ed25519" | "rsa-sha256"

// Why a webhook's signature was refused.
enum class SignatureReject {
  kNone,          // accepted
  kMissing,       // no signature header (or only x-wh-signature while RSA is switched off)
  kNotAvailable,  // the only signature present was the literal "N/A"
  kMalformed,     // not base64, or the wrong length for the scheme
  kBadSignature,  // well-formed, but no configured key verifies it over these bytes
};
const char* ToString(SignatureReject reject);  // "missing" | "n/a" | "malformed" | "bad_signature"

struct SignatureHeaders {
  std::optional<std::string_view> ghl;  // x-ghl-signature
  std::optional<std::string_view> wh;   // x-wh-signature
};

struct SignatureVerdict {
  SignatureReject reject = SignatureReject::kNone;
  SignatureScheme scheme = SignatureScheme::kEd25519;  // the scheme checked (or accepted)
  bool ok() const { return reject == SignatureReject::kNone; }
};

// A public key as configured: SPKI PEM ("-----BEGIN PUBLIC KEY-----") or its base64 DER
// body on one line (the form GHL's guide quotes). `label` names it in error messages
// ("webhooks.public_keys[0]", a file path); the key's type (Ed25519 or RSA) is read from it.
struct PublicKeySource {
  std::string label;
  std::string text;
};

// GHL's published keys: RSA from the official webhook authentication guide, Ed25519 as
// third parties quote the Webhook Integration Guide (FACTS.md §8.3).
const char* BuiltinRsaPublicKeyPem();
const char* BuiltinEd25519PublicKeyPem();

class WebhookVerifier {
 public:
  struct Options {
    bool builtin_keys = true;  // include GHL's published keys
    std::vector<PublicKeySource> keys;
    bool accept_rsa = true;  // honour x-wh-signature when x-ghl-signature is absent
  };

  // Parses every key. Fails, naming the key's label, on text that is not a public key, on
  // a key that is neither Ed25519 nor RSA, or when no key is left to verify with.
  static Result<std::unique_ptr<WebhookVerifier>> Create(const Options& options);
  ~WebhookVerifier();
  WebhookVerifier(const WebhookVerifier&) = delete;
  WebhookVerifier& operator=(const WebhookVerifier&) = delete;

  SignatureVerdict Verify(std::string_view body, const SignatureHeaders& headers) const;

  // One line per key for the start-up log: scheme, label and a short SHA-256 fingerprint.
  std::vector<std::string> Describe() const;

  struct Key;

 private:
  WebhookVerifier(std::vector<Key> keys, bool accept_rsa);
  bool VerifyWith(SignatureScheme scheme, std::string_view body,
                  const std::vector<unsigned char>& signature) const;

  std::vector<Key> keys_;
  bool accept_rsa_;
};

}  // namespace ghl::ghl_client
