// OAuthTokenStore: the OAuth tokens of the GHL Marketplace app, one row per resource (a
// company id for an agency token, a location id for a sub-account token), in the state
// store's `oauth_tokens` table (schema migration 5).
//
// Durability: every write is one committed transaction, and the state file runs in WAL
// mode with synchronous=FULL, so a row that a write returned for survives a crash of the
// process or the machine. Every write bumps the row's generation: a holder of tokens that
// finds a higher generation knows another writer (`ghl-syncd auth`, an INSTALL webhook,
// another process) replaced them.
//
// The refresh mark records "a refresh request with this row's refresh token went out and
// its answer is not committed yet". GHL spends a refresh token when it answers, so after a
// crash a row with the mark set may hold a spent refresh token (connectors/ghl/oauth.h).
//
// Tokens are Secrets: nothing here puts them in a log line or an error message (SQLite
// errors quote the statement, whose values are bound, never the values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/secret.h"
#include "state/sqlite.h"

namespace ghl::state {

// GHL's `userType` / `user_type`: an agency (Company) or a sub-account (Location) token.
enum class OAuthUserType { kCompany, kLocation };
const char* ToString(OAuthUserType type);  // "Company" or "Location", as GHL spells them
std::optional<OAuthUserType> ParseOAuthUserType(std::string_view text);

struct OAuthTokens {
  std::string resource;  // the company id (Company) or the location id (Location)
  OAuthUserType user_type = OAuthUserType::kLocation;
  // A Company row: its own id. A Location row: the company it belongs to, when known (then
  // a lost location token can be minted again from that company's agency token).
  std::string company_id;
  std::string client_id;  // the app the tokens were issued to
  Secret access_token;
  Secret refresh_token;       // empty for a location token minted without one
  int64_t expires_at_ms = 0;  // Unix ms: when the access token expires
  std::string scopes;         // space-separated, as GHL sends them
  // Set by the store on every write, read by Load:
  int64_t generation = 0;
  int64_t updated_at_ms = 0;                     // when these tokens were stored (Unix ms)
  std::optional<int64_t> refresh_started_at_ms;  // the refresh mark (see above)
};

class OAuthTokenStore {
 public:
  explicit OAuthTokenStore(sqlite::Db& db) : db_(db) {}

  // The row of `resource`, if any.
  Result<std::optional<OAuthTokens>> Load(const std::string& resource);
  // Every row, ordered by resource.
  Result<std::vector<OAuthTokens>> LoadAll();
  // Stores `tokens` as the row of tokens.resource in one transaction, replacing any row
  // there, clearing the refresh mark and bumping the generation (1 for a new row). Its
  // generation, updated_at_ms and refresh_started_at_ms are ignored. Returns the new
  // generation.
  Result<int64_t> Put(const OAuthTokens& tokens, int64_t now_ms);
  // Durably sets the refresh mark of `resource` (an error if it has no row).
  Result<void> MarkRefreshStarted(const std::string& resource, int64_t now_ms);
  // Clears the refresh mark: an answer to the refresh arrived and was dealt with.
  Result<void> ClearRefreshMark(const std::string& resource);
  // Deletes the row (an UNINSTALL); false if there was none.
  Result<bool> Remove(const std::string& resource);

 private:
  sqlite::Db& db_;
};

}  // namespace ghl::state
