// World: everything the emulator knows: locations, tokens, and the records of each
// object, with the search view that lags behind writes the way GHL's search index does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/json.h"

namespace ghl::emulator {

struct Location {
  std::string id;
  std::string name;
  std::string company_id;
  std::string timezone = "UTC";
  // The "Allow Duplicate Contact" setting: when false, create refuses a contact whose
  // email or phone matches another, and upsert matches on `duplicate_priority` order.
  bool allow_duplicate_contact = false;
  std::vector<std::string> duplicate_priority = {"email", "phone"};
};

struct Token {
  enum class Kind { kPrivateIntegration, kLocationOAuth, kCompanyOAuth };
  Kind kind = Kind::kPrivateIntegration;
  std::string location_id;    // for location tokens
  std::string company_id;     // for company (agency) tokens, and the location's company
  std::string client_id;      // OAuth app; empty for PITs
  int64_t expires_at_ms = 0;  // 0: never (PITs)
  bool revoked = false;

  // The rate-limit resource: (app or token, location or company), as GHL counts.
  std::string RateKey() const;
};

struct Record {
  std::string id;
  std::string location_id;
  JsonDoc doc;  // the record as GET returns it
  int64_t added_ms = 0;
  int64_t updated_ms = 0;
};

// Records of one object type, plus the lagged view that search endpoints read.
class Collection {
 public:
  Collection() = default;
  // `indexed`: top-level string fields with an exact-match index per location (FindBy).
  explicit Collection(std::vector<std::string> indexed) : indexed_(std::move(indexed)) {}

  Record* Find(const std::string& id);
  const Record* Find(const std::string& id) const;
  Record& Put(Record record, int64_t now_ms, int64_t lag_ms);
  // Call after changing a record in place, so search sees the change after the lag.
  void Touched(const Record& record, int64_t now_ms, int64_t lag_ms);
  bool Erase(const std::string& id, int64_t now_ms, int64_t lag_ms);
  const std::map<std::string, Record>& all() const { return records_; }
  // Ids of the records of `location` whose indexed `field` equals `value`.
  // REQUIRES: `field` was named at construction.
  std::vector<std::string> FindBy(const std::string& field, const std::string& location,
                                  const std::string& value) const;
  size_t size() const { return records_.size(); }
  void Clear();

  // The records search can see at `now_ms`: each write (Put, Touched, Erase) is seen from
  // exactly its `now_ms + lag_ms` on, never sooner or later, whatever lag the writes
  // before it had; a later write of a record that becomes visible first hides the older
  // ones still pending.
  using View = std::map<std::string, std::shared_ptr<const JsonDoc>>;
  const View& SearchView(int64_t now_ms);
  // The same records in dateUpdated order (epoch ms, then id: SortLess's order for a sort
  // on dateUpdated alone), so that such a search reads one page, not the whole view.
  // nullptr while some visible record has no dateUpdated that parses as a time (it would
  // sort elsewhere): search the view instead.
  using ByUpdated = std::map<std::pair<int64_t, std::string>, std::shared_ptr<const JsonDoc>>;
  const ByUpdated* SearchViewByUpdated(int64_t now_ms);
  // A count (a search's total) kept under `key` until the view changes.
  std::optional<size_t> CachedCount(const std::string& key) const;
  void RememberCount(const std::string& key, size_t count);

 private:
  struct Pending {
    std::string id;
    std::shared_ptr<const JsonDoc> doc;  // null: deleted
  };
  // Shows the writes visible at `now_ms` (the lag may have changed between writes, so a
  // write can become visible before an older one).
  void Advance(int64_t now_ms);
  void Publish(const std::string& id, std::shared_ptr<const JsonDoc> doc, int64_t now_ms,
               int64_t lag_ms);

  void Unindex(const std::string& id);
  void Index(const Record& record);

  std::map<std::string, Record> records_;
  std::vector<std::string> indexed_;
  // field -> (location \0 value) -> ids; and id -> the keys it is filed under.
  std::map<std::string, std::unordered_multimap<std::string, std::string>> index_;
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> filed_;
  void Show(const std::string& id, std::shared_ptr<const JsonDoc> doc);

  View visible_;
  ByUpdated by_updated_;
  size_t undated_ = 0;       // visible records without a parseable dateUpdated
  uint64_t generation_ = 0;  // bumped whenever the view changes
  struct Count {
    uint64_t generation;
    size_t count;
  };
  std::map<std::string, Count> counts_;
  // By (visible at ms, write number); per id: how many writes are pending, and the write
  // number of the newest one shown.
  std::map<std::pair<int64_t, uint64_t>, Pending> pending_;
  struct PendingOf {
    size_t count = 0;
    uint64_t shown = 0;
  };
  std::unordered_map<std::string, PendingOf> pending_of_;
  uint64_t writes_ = 0;
};

// GHL-looking ids (20 letters and digits), deterministic under a seed.
class IdGenerator {
 public:
  explicit IdGenerator(uint64_t seed) : rng_(seed) {}
  std::string Next(size_t length = 20);
  void Reseed(uint64_t seed) { rng_.seed(seed); }

 private:
  std::mt19937_64 rng_;
};

// OAuth (FACTS.md §1.3-1.5): marketplace apps, where they are installed, and the
// one-time codes and refresh tokens that mint access tokens. Used by oauth.cc.
struct OAuthClient {
  std::string id;  // "<appId>-<suffix>", the shape of GHL client ids
  std::string secret;
  std::string version_id;
  std::vector<std::string> scopes;
};

// An app installed on a location, or (empty location_id) on a company.
struct OAuthInstall {
  std::string client_id;
  std::string location_id;
  std::string company_id;
  std::string user_id;  // who installed it
  int64_t installed_at_ms = 0;
};

// What an authorization code or a refresh token mints a token for.
struct OAuthGrant {
  std::string client_id;
  Token::Kind kind = Token::Kind::kLocationOAuth;
  std::string location_id;
  std::string company_id;
  std::string user_id;
  std::string redirect_uri;  // codes only: must match at the exchange
  int64_t expires_at_ms = 0;
};

struct OAuthState {
  std::map<std::string, OAuthClient> clients;        // by client id
  std::map<std::string, OAuthInstall> installs;      // by "<client id>/<location or company id>"
  std::map<std::string, OAuthGrant> codes;           // by authorization code
  std::map<std::string, OAuthGrant> refresh_tokens;  // by refresh token
};

struct World {
  std::map<std::string, Location> locations;
  std::map<std::string, Token> tokens;  // by bearer token
  Collection users;
  Collection contacts{{"emailLowerCase", "phone"}};  // duplicate matching
  Collection custom_fields;  // definitions, with `model` contact or opportunity
  Collection pipelines;
  Collection opportunities;
  Collection calendars;
  Collection appointments;
  OAuthState oauth;

  const Location* FindLocation(const std::string& id) const;
};

}  // namespace ghl::emulator
