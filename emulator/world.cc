#include "emulator/world.h"

namespace ghl::emulator {

std::string Token::RateKey() const {
  const std::string app = client_id.empty() ? "pit" : client_id;
  if (kind == Kind::kCompanyOAuth) return app + "/company/" + company_id;
  return app + "/location/" + location_id;
}

Record* Collection::Find(const std::string& id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

const Record* Collection::Find(const std::string& id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

Record& Collection::Put(Record record, int64_t now_ms, int64_t lag_ms) {
  const std::string id = record.id;
  Record& stored = records_[id] = std::move(record);
  Touched(stored, now_ms, lag_ms);
  return stored;
}

void Collection::Touched(const Record& record, int64_t now_ms, int64_t lag_ms) {
  Publish(record.id, std::make_shared<const JsonDoc>(Copy(record.doc)), now_ms + lag_ms);
}

bool Collection::Erase(const std::string& id, int64_t now_ms, int64_t lag_ms) {
  if (records_.erase(id) == 0) return false;
  Publish(id, nullptr, now_ms + lag_ms);
  return true;
}

void Collection::Clear() {
  records_.clear();
  visible_.clear();
  pending_.clear();
}

void Collection::Publish(const std::string& id, std::shared_ptr<const JsonDoc> doc, int64_t at_ms) {
  pending_.push_back({at_ms, id, std::move(doc)});
}

const Collection::View& Collection::SearchView(int64_t now_ms) {
  // The lag is one value for all writes, so pending_ is in visibility order.
  while (!pending_.empty() && pending_.front().visible_at_ms <= now_ms) {
    auto& p = pending_.front();
    if (p.doc) {
      visible_[p.id] = std::move(p.doc);
    } else {
      visible_.erase(p.id);
    }
    pending_.pop_front();
  }
  return visible_;
}

std::string IdGenerator::Next(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string id(length, 'x');
  for (auto& c : id) c = kAlphabet[pick(rng_)];
  return id;
}

const Location* World::FindLocation(const std::string& id) const {
  auto it = locations.find(id);
  return it == locations.end() ? nullptr : &it->second;
}

}  // namespace ghl::emulator
