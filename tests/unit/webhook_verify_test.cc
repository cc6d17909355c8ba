// Webhook signature verification: every way a signature can be wrong, both schemes, key
// rotation and key configuration errors. Keys are generated here (the emulator's signer).
#include "connectors/ghl/webhook_verify.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sstream>

#include "emulator/webhook_signer.h"
#include "tests/support/signature_check.h"

namespace ghl::ghl_client {
namespace {

using emulator::WebhookSigner;

const std::string kBody =
    R"({"type":"ContactCreate","locationId":"loc-1","id":"c-1","firstName":"Ada",)"
    R"("timestamp":"2025-01-28T14:35:00.000Z","webhookId":"w-1"})";

std::unique_ptr<WebhookSigner> NewSigner() {
  auto signer = WebhookSigner::Create("");
  if (!signer.ok()) std::abort();
  return std::move(signer).value();
}

// The base64 body of a PEM block, on one line (the form GHL's guide quotes).
std::string PemBody(const std::string& pem) {
  std::string out;
  std::istringstream in(pem);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("-----", 0) != 0) out += line;
  }
  return out;
}

class WebhookVerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signer_ = NewSigner().release();
    other_ = NewSigner().release();
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete other_;
  }

  // A verifier trusting only `signer_`'s keys.
  static std::unique_ptr<WebhookVerifier> Verifier(bool accept_rsa = true) {
    auto v = WebhookVerifier::Create(
        {false,
         {{"ed", signer_->ed25519_public_pem()}, {"rsa", signer_->rsa_public_pem()}},
         accept_rsa});
    EXPECT_TRUE(v.ok()) << v.error().message;
    return std::move(v).value();
  }

  static WebhookSigner* signer_;
  static WebhookSigner* other_;
};
WebhookSigner* WebhookVerifyTest::signer_ = nullptr;
WebhookSigner* WebhookVerifyTest::other_ = nullptr;

struct Case {
  const char* name;
  std::string body;  // what arrived
  std::optional<std::string> ghl, wh;
  SignatureReject want;
  SignatureScheme scheme = SignatureScheme::kEd25519;
};

TEST_F(WebhookVerifyTest, EveryBadSignatureIsRefusedWithItsReason) {
  const std::string ed = signer_->SignEd25519(kBody);
  const std::string rsa = signer_->SignRsaSha256(kBody);
  std::string tampered = kBody;
  tampered[tampered.find("Ada")] = 'E';
  const std::string other_body = R"({"type":"ContactDelete","id":"c-2"})";
  using R = SignatureReject;
  using S = SignatureScheme;
  const std::vector<Case> cases = {
      {"ed25519 valid", kBody, ed, std::nullopt, R::kNone, S::kEd25519},
      {"rsa valid, no x-ghl-signature", kBody, std::nullopt, rsa, R::kNone, S::kRsaSha256},
      {"both valid: ed25519 decides", kBody, ed, rsa, R::kNone, S::kEd25519},
      {"tampered body, ed25519", tampered, ed, std::nullopt, R::kBadSignature},
      {"tampered body, rsa", tampered, std::nullopt, rsa, R::kBadSignature, S::kRsaSha256},
      {"one byte appended", kBody + " ", ed, std::nullopt, R::kBadSignature},
      {"signed by another key, ed25519", kBody, other_->SignEd25519(kBody), std::nullopt,
       R::kBadSignature},
      {"signed by another key, rsa", kBody, std::nullopt, other_->SignRsaSha256(kBody),
       R::kBadSignature, S::kRsaSha256},
      {"signature of another body", kBody, signer_->SignEd25519(other_body), std::nullopt,
       R::kBadSignature},
      {"rsa signature in the ed25519 header", kBody, rsa, std::nullopt, R::kMalformed},
      {"base64 garbage", kBody, "not base64 at all!", std::nullopt, R::kMalformed},
      {"base64 with a bad length", kBody, "abc", std::nullopt, R::kMalformed},
      {"base64 of the wrong size for ed25519", kBody, "AAAAAAAAAAAAAAAA", std::nullopt,
       R::kMalformed},
      {"rsa header garbage", kBody, std::nullopt, "%%%%", R::kMalformed, S::kRsaSha256},
      {"no signature headers", kBody, std::nullopt, std::nullopt, R::kMissing},
      {"empty headers", kBody, "", "", R::kMissing},
      {"N/A only", kBody, "N/A", std::nullopt, R::kNotAvailable},
      {"N/A in both", kBody, "N/A", "N/A", R::kNotAvailable},
      {"N/A ed25519, valid rsa", kBody, "N/A", rsa, R::kNone, S::kRsaSha256},
      {"bad ed25519 never falls back to a valid rsa", kBody, other_->SignEd25519(kBody), rsa,
       R::kBadSignature},
  };
  auto verifier = Verifier();
  for (const auto& c : cases) {
    std::optional<std::string_view> ghl, wh;
    if (c.ghl) ghl = *c.ghl;
    if (c.wh) wh = *c.wh;
    const auto verdict = verifier->Verify(c.body, {ghl, wh});
    EXPECT_EQ(ToString(verdict.reject), std::string(ToString(c.want))) << c.name;
    EXPECT_EQ(verdict.ok(), c.want == R::kNone) << c.name;
    if (c.want == R::kNone || c.want == R::kBadSignature) {
      EXPECT_EQ(verdict.scheme, c.scheme) << c.name;
    }
  }
}

TEST_F(WebhookVerifyTest, RsaSwitchedOffIgnoresTheLegacyHeader) {
  auto verifier = Verifier(/*accept_rsa=*/false);
  const std::string rsa = signer_->SignRsaSha256(kBody);
  EXPECT_EQ(verifier->Verify(kBody, {std::nullopt, rsa}).reject, SignatureReject::kMissing);
  EXPECT_EQ(verifier->Verify(kBody, {std::nullopt, "N/A"}).reject, SignatureReject::kMissing);
  EXPECT_TRUE(verifier->Verify(kBody, {signer_->SignEd25519(kBody), rsa}).ok());
}

TEST_F(WebhookVerifyTest, DuringARotationOldAndNewKeysBothVerify) {
  auto v = WebhookVerifier::Create(
      {false,
       {{"old", signer_->ed25519_public_pem()}, {"new", PemBody(other_->ed25519_public_pem())}},
       true});
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE((*v)->Verify(kBody, {signer_->SignEd25519(kBody), std::nullopt}).ok());
  EXPECT_TRUE((*v)->Verify(kBody, {other_->SignEd25519(kBody), std::nullopt}).ok());
  EXPECT_FALSE((*v)->Verify(kBody, {std::nullopt, signer_->SignRsaSha256(kBody)}).ok())
      << "no RSA key configured";
}

TEST_F(WebhookVerifyTest, BuiltinKeysAreGhlsPublishedOnesAndStayAlongsideConfiguredKeys) {
  auto v = WebhookVerifier::Create({true, {{"mine", signer_->ed25519_public_pem()}}, true});
  ASSERT_TRUE(v.ok()) << v.error().message;
  const auto lines = (*v)->Describe();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("ed25519 sha256:"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("GHL built-in"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("rsa-sha256"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("(mine)"), std::string::npos) << lines[2];
  EXPECT_TRUE((*v)->Verify(kBody, {signer_->SignEd25519(kBody), std::nullopt}).ok());
  // The RSA key is the 4096-bit one of GHL's webhook authentication guide.
  EXPECT_NE(std::string(BuiltinRsaPublicKeyPem()).find("MIICIjANBgkqhkiG9w0BAQEFAAOCAg8A"),
            std::string::npos);
}

TEST(WebhookVerifierCreate, RefusesKeysItCannotUseAndNamesThem) {
  struct Bad {
    WebhookVerifier::Options options;
    std::string want;
  };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), ec.get()), 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  const std::string ec_pem(data, static_cast<size_t>(length));
  const std::vector<Bad> cases = {
      {{true, {{"webhooks.public_keys[0]", "hello"}}, true}, "webhooks.public_keys[0]: not a"},
      {{true, {{"k.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}}, true},
       "k.pem: not a public key"},
      {{true, {{"ec.pem", ec_pem}}, true}, "ec.pem: a EC key; webhook keys are Ed25519 or RSA"},
      {{false, {}, true}, "no webhook public key"},
      {{false, {{"rsa", testing::OtherPublicKeyPem("RSA")}}, false}, "no webhook public key"},
  };
  for (const auto& c : cases) {
    auto v = WebhookVerifier::Create(c.options);
    ASSERT_FALSE(v.ok()) << c.want;
    EXPECT_NE(v.error().message.find(c.want), std::string::npos) << v.error().message;
  }
}

}  // namespace
}  // namespace ghl::ghl_client
