#include "emulator/world.h"

#include <algorithm>
#include <optional>

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

void Collection::Unindex(const std::string& id) {
  auto it = filed_.find(id);
  if (it == filed_.end()) return;
  for (const auto& [field, key] : it->second) {
    auto& idx = index_[field];
    auto range = idx.equal_range(key);
    for (auto e = range.first; e != range.second; ++e) {
      if (e->second == id) {
        idx.erase(e);
        break;
      }
    }
  }
  filed_.erase(it);
}

void Collection::Index(const Record& record) {
  Unindex(record.id);
  auto& keys = filed_[record.id];
  for (const auto& field : indexed_) {
    auto value = GetString(record.doc, field.c_str());
    if (!value || value->empty()) continue;
    std::string key = record.location_id + '\0' + *value;
    index_[field].emplace(key, record.id);
    keys.emplace_back(field, std::move(key));
  }
}

std::vector<std::string> Collection::FindBy(const std::string& field, const std::string& location,
                                            const std::string& value) const {
  std::vector<std::string> ids;
  auto idx = index_.find(field);
  if (idx == index_.end()) return ids;
  auto range = idx->second.equal_range(location + '\0' + value);
  for (auto e = range.first; e != range.second; ++e) ids.push_back(e->second);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Record& Collection::Put(Record record, int64_t now_ms, int64_t lag_ms) {
  const std::string id = record.id;
  Record& stored = records_[id] = std::move(record);
  Touched(stored, now_ms, lag_ms);
  return stored;
}

void Collection::Touched(const Record& record, int64_t now_ms, int64_t lag_ms) {
  if (!indexed_.empty()) Index(record);
  Publish(record.id, std::make_shared<const JsonDoc>(Copy(record.doc)), now_ms, lag_ms);
}

bool Collection::Erase(const std::string& id, int64_t now_ms, int64_t lag_ms) {
  if (records_.erase(id) == 0) return false;
  Unindex(id);
  Publish(id, nullptr, now_ms, lag_ms);
  return true;
}

void Collection::Clear() {
  records_.clear();
  index_.clear();
  filed_.clear();
  visible_.clear();
  by_updated_.clear();
  counts_.clear();
  undated_ = 0;
  ++generation_;
  pending_.clear();
  pending_of_.clear();
}

void Collection::Publish(const std::string& id, std::shared_ptr<const JsonDoc> doc, int64_t now_ms,
                         int64_t lag_ms) {
  // What is due is shown first: a collection nobody searches holds no old copies.
  Advance(now_ms);
  if (lag_ms <= 0) {
    // Seen at once; an older write still pending must not come back over it.
    auto it = pending_of_.find(id);
    if (it != pending_of_.end()) it->second.shown = writes_ + 1;
    ++writes_;
    Show(id, std::move(doc));
    return;
  }
  ++writes_;
  pending_.emplace(std::make_pair(now_ms + lag_ms, writes_), Pending{id, std::move(doc)});
  ++pending_of_[id].count;
}

void Collection::Advance(int64_t now_ms) {
  while (!pending_.empty() && pending_.begin()->first.first <= now_ms) {
    auto node = pending_.extract(pending_.begin());
    const uint64_t write = node.key().second;
    Pending& p = node.mapped();
    auto of = pending_of_.find(p.id);
    const bool newer = write > of->second.shown;
    if (newer) of->second.shown = write;
    if (--of->second.count == 0) pending_of_.erase(of);
    if (newer) Show(p.id, std::move(p.doc));
  }
}

const Collection::View& Collection::SearchView(int64_t now_ms) {
  Advance(now_ms);
  return visible_;
}

const Collection::ByUpdated* Collection::SearchViewByUpdated(int64_t now_ms) {
  SearchView(now_ms);
  return undated_ == 0 ? &by_updated_ : nullptr;
}

std::optional<size_t> Collection::CachedCount(const std::string& key) const {
  auto it = counts_.find(key);
  if (it == counts_.end() || it->second.generation != generation_) return std::nullopt;
  return it->second.count;
}

void Collection::RememberCount(const std::string& key, size_t count) {
  if (counts_.size() > 64) counts_.clear();  // a few filters at a time are searched
  counts_[key] = {generation_, count};
}

namespace {

std::optional<int64_t> UpdatedMs(const JsonDoc& doc) {
  auto s = GetString(doc, "dateUpdated");
  return s ? ParseIsoTime(*s) : std::nullopt;
}

}  // namespace

void Collection::Show(const std::string& id, std::shared_ptr<const JsonDoc> doc) {
  ++generation_;
  if (auto old = visible_.find(id); old != visible_.end()) {
    if (auto ms = UpdatedMs(*old->second)) {
      by_updated_.erase({*ms, id});
    } else {
      --undated_;
    }
    if (!doc) visible_.erase(old);
  }
  if (!doc) return;
  if (auto ms = UpdatedMs(*doc)) {
    by_updated_[{*ms, id}] = doc;
  } else {
    ++undated_;
  }
  visible_[id] = std::move(doc);
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
