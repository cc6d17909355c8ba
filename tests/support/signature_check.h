// Verifies GHL webhook signatures with OpenSSL, as a receiver would: x-ghl-signature is
// base64(Ed25519) and x-wh-signature base64(RSA-SHA256 PKCS#1 v1.5), both over the raw body.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <vector>

namespace ghl::testing {

inline std::vector<unsigned char> FromBase64(const std::string& text) {
  std::vector<unsigned char> out(3 * (text.size() / 4) + 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || text.size() % 4 != 0) return {};
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the bytes that '=' padding stands for.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;
  out.resize(len);
  return out;
}

// True when `signature_b64` is a valid signature of `body` under the SPKI PEM key;
// `md` is null for Ed25519 and EVP_sha256() for RSA.
inline bool VerifySignature(const std::string& public_pem, const EVP_MD* md,
                            const std::string& body, const std::string& signature_b64) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return false;
  const auto sig = FromBase64(signature_b64);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
                          reinterpret_cast<const unsigned char*>(body.data()), body.size()) == 1;
}

// A freshly generated public key of `type` ("ED25519" or "RSA"), as SPKI PEM: a key the
// emulator did not sign with.
inline std::string OtherPublicKeyPem(const char* type) {
  EVP_PKEY* raw = std::string(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!key || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace ghl::testing
