#include "emulator/webhook_signer.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace ghl::emulator {
namespace {

namespace fs = std::filesystem;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string PublicPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return "";
  return BioText(bio.get());
}

std::string PrivatePem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  // PKCS#8, unencrypted: the file's 0600 mode is its protection.
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return "";
  }
  return BioText(bio.get());
}

// Writes `text` to `path` with `mode`, through a temporary file renamed into place so a
// crash never leaves half a key behind.
Result<void> WriteFile(const fs::path& path, const std::string& text, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error{"cannot write " + tmp.string() + ": " + std::strerror(errno)};
  bool ok = ::fchmod(fd, mode) == 0;  // the umask may have narrowed or the file existed
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(tmp, path, ec);
  if (!ok || ec) {
    fs::remove(tmp, ec);
    return Error{"cannot write " + path.string()};
  }
  return Ok();
}

Result<WebhookSigner::Key> Generate(const char* type) {
  EVP_PKEY* key = std::string_view(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  if (key == nullptr)
    return Error{std::string("cannot generate a ") + type + " key: " + OpenSslError()};
  return WebhookSigner::Key(key);
}

Result<WebhookSigner::Key> LoadFile(const fs::path& path, const char* type) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Error{"cannot read " + path.string()};
  const std::string pem = text.str();
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) {
    return Error{path.string() + " is not a PEM private key (" + OpenSslError() +
                 "); delete it to have a new key generated"};
  }
  WebhookSigner::Key owned(key);
  if (!EVP_PKEY_is_a(key, type)) {
    return Error{path.string() + " holds a " + EVP_PKEY_get0_type_name(key) + " key, not " + type};
  }
  return owned;
}

// The key of `type` kept as `<dir>/<name>.pem`: loaded if present, else generated and
// saved there (with its public key beside it as `<name>.pub.pem`).
Result<WebhookSigner::Key> LoadOrCreate(const std::string& dir, const char* name,
                                        const char* type) {
  if (dir.empty()) return Generate(type);
  const fs::path path = fs::path(dir) / (std::string(name) + ".pem");
  std::error_code ec;
  if (fs::exists(path, ec)) return LoadFile(path, type);
  auto key = Generate(type);
  if (!key.ok()) return key;
  if (auto w = WriteFile(path, PrivatePem(key->get()), 0600); !w.ok()) return w.error();
  const fs::path pub = fs::path(dir) / (std::string(name) + ".pub.pem");
  if (auto w = WriteFile(pub, PublicPem(key->get()), 0644); !w.ok()) return w.error();
  return key;
}

std::string Base64(const std::vector<unsigned char>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// EVP_DigestSign with `md` (null for Ed25519, which hashes internally); "" on failure.
std::string Sign(EVP_PKEY* key, const EVP_MD* md, std::string_view body) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(body.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, body.size()) != 1) {
    return "";
  }
  std::vector<unsigned char> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data, body.size()) != 1) return "";
  sig.resize(len);
  return Base64(sig);
}

}  // namespace

Result<std::unique_ptr<WebhookSigner>> WebhookSigner::Create(const std::string& keys_dir) {
  if (!keys_dir.empty()) {
    std::error_code ec;
    const bool created = fs::create_directories(keys_dir, ec);
    if (ec) return Error{"--keys-dir " + keys_dir + ": cannot create it: " + ec.message()};
    // Inferred: a directory we create holds private keys, so only its owner may list it.
    if (created) fs::permissions(keys_dir, fs::perms::owner_all, ec);
  }
  auto ed = LoadOrCreate(keys_dir, "webhook-ed25519", "ED25519");
  if (!ed.ok()) return Error{"webhook keys: " + ed.error().message};
  auto rsa = LoadOrCreate(keys_dir, "webhook-rsa", "RSA");
  if (!rsa.ok()) return Error{"webhook keys: " + rsa.error().message};
  return std::unique_ptr<WebhookSigner>(
      new WebhookSigner(std::move(ed).value(), std::move(rsa).value()));
}

WebhookSigner::WebhookSigner(Key ed25519, Key rsa)
    : ed25519_(std::move(ed25519)),
      rsa_(std::move(rsa)),
      ed25519_pem_(PublicPem(ed25519_.get())),
      rsa_pem_(PublicPem(rsa_.get())) {}

std::string WebhookSigner::SignEd25519(std::string_view body) const {
  return Sign(ed25519_.get(), nullptr, body);
}

std::string WebhookSigner::SignRsaSha256(std::string_view body) const {
  // PKCS#1 v1.5 is the default padding for RSA signatures, what Node's createVerify expects.
  return Sign(rsa_.get(), EVP_sha256(), body);
}

}  // namespace ghl::emulator
