// PLACEHOLDER: being written. Records nothing, signs nothing.
#include "emulator/webhooks.h"

namespace ghl::emulator {
namespace {
class NullSink final : public WebhookSink {
 public:
  void Publish(const std::string&, const JsonDoc&) override {}
  void SetFaults(const Faults&) override {}
  std::string Ed25519PublicKeyPem() const override { return ""; }
  std::string RsaPublicKeyPem() const override { return ""; }
};
}  // namespace

Result<std::unique_ptr<WebhookSink>> MakeWebhookDispatcher(boost::asio::io_context&,
                                                           const WebhookOptions&, uint64_t) {
  return std::unique_ptr<WebhookSink>(std::make_unique<NullSink>());
}

}  // namespace ghl::emulator
