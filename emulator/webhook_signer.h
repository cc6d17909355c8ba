// WebhookSigner: the emulator's two webhook signing keys and the signatures GHL sends.
//
//   x-ghl-signature: base64(Ed25519 signature of the body bytes)      (FACTS.md §8.3)
//   x-wh-signature:  base64(RSA-SHA256 PKCS#1 v1.5 signature of them)
//
// The keys are fresh on each start, or kept in a directory (private keys as PKCS#8 PEM,
// mode 0600, plus the public keys as SPKI PEM for convenience) so receivers configured
// with the public keys keep working across restarts.
// Thread-safety: const methods may be called from any one thread at a time per signer
// (the dispatcher signs on its worker thread only).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ghl::emulator {

class WebhookSigner {
 public:
  // Generates both key pairs, or with a non-empty `keys_dir` loads them from it
  // (generating and saving whichever is missing; the directory is created).
  static Result<std::unique_ptr<WebhookSigner>> Create(const std::string& keys_dir);

  std::string SignEd25519(std::string_view body) const;
  std::string SignRsaSha256(std::string_view body) const;
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  const std::string& ed25519_public_pem() const { return ed25519_pem_; }
  const std::string& rsa_public_pem() const { return rsa_pem_; }

  struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

 private:
  WebhookSigner(Key ed25519, Key rsa);

  Key ed25519_, rsa_;
  std::string ed25519_pem_, rsa_pem_;
};

}  // namespace ghl::emulator
