#include "state/oauth_tokens.h"

#include <fmt/format.h>

namespace ghl::state {
namespace {

constexpr const char* kColumns =
    "resource, user_type, company_id, client_id, access_token, refresh_token, expires_at, "
    "scopes, generation, updated_at, refresh_started_at";

OAuthTokens ReadRow(const sqlite::Statement& s) {
  OAuthTokens t;
  t.resource = s.ColumnText(0);
  t.user_type = ParseOAuthUserType(s.ColumnText(1)).value_or(OAuthUserType::kLocation);
  t.company_id = s.ColumnText(2);
  t.client_id = s.ColumnText(3);
  t.access_token = Secret(s.ColumnText(4));
  t.refresh_token = Secret(s.ColumnText(5));
  t.expires_at_ms = s.ColumnInt64(6);
  t.scopes = s.ColumnText(7);
  t.generation = s.ColumnInt64(8);
  t.updated_at_ms = s.ColumnInt64(9);
  if (!s.ColumnIsNull(10)) t.refresh_started_at_ms = s.ColumnInt64(10);
  return t;
}

// Runs `stmt`, which returns at most one row, to completion (so that its implicit
// transaction commits); whether it returned a row, and the first column of it.
Result<std::optional<int64_t>> RunReturning(sqlite::Statement& stmt) {
  auto row = stmt.Step();
  if (!row) return row.error();
  std::optional<int64_t> value;
  if (*row) value = stmt.ColumnInt64(0);
  if (auto done = stmt.Run(); !done) return done.error();
  return value;
}

}  // namespace

const char* ToString(OAuthUserType type) {
  return type == OAuthUserType::kCompany ? "Company" : "Location";
}

std::optional<OAuthUserType> ParseOAuthUserType(std::string_view text) {
  if (text == "Company") return OAuthUserType::kCompany;
  if (text == "Location") return OAuthUserType::kLocation;
  return std::nullopt;
}

Result<std::optional<OAuthTokens>> OAuthTokenStore::Load(const std::string& resource) {
  auto stmt = db_.Prepare(fmt::format("SELECT {} FROM oauth_tokens WHERE resource = ?1", kColumns));
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, resource); !b) return b.error();
  auto row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<OAuthTokens>();
  return std::optional<OAuthTokens>(ReadRow(*stmt));
}

Result<std::vector<OAuthTokens>> OAuthTokenStore::LoadAll() {
  auto stmt = db_.Prepare(fmt::format("SELECT {} FROM oauth_tokens ORDER BY resource", kColumns));
  if (!stmt) return stmt.error();
  std::vector<OAuthTokens> out;
  for (;;) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(ReadRow(*stmt));
  }
}

Result<int64_t> OAuthTokenStore::Put(const OAuthTokens& t, int64_t now_ms) {
  // One statement, so one transaction: the new pair and the cleared mark land together.
  auto stmt = db_.Prepare(
      "INSERT INTO oauth_tokens (resource, user_type, company_id, client_id, access_token,"
      " refresh_token, expires_at, scopes, generation, updated_at, refresh_started_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, NULL)"
      " ON CONFLICT (resource) DO UPDATE SET user_type = excluded.user_type,"
      "  company_id = excluded.company_id, client_id = excluded.client_id,"
      "  access_token = excluded.access_token, refresh_token = excluded.refresh_token,"
      "  expires_at = excluded.expires_at, scopes = excluded.scopes,"
      "  generation = oauth_tokens.generation + 1, updated_at = excluded.updated_at,"
      "  refresh_started_at = NULL"
      " RETURNING generation");
  if (!stmt) return stmt.error();
  for (auto b : {stmt->BindText(1, t.resource), stmt->BindText(2, ToString(t.user_type)),
                 stmt->BindText(3, t.company_id), stmt->BindText(4, t.client_id),
                 stmt->BindText(5, t.access_token.Reveal()),
                 stmt->BindText(6, t.refresh_token.Reveal()), stmt->BindInt64(7, t.expires_at_ms),
                 stmt->BindText(8, t.scopes), stmt->BindInt64(9, now_ms)}) {
    if (!b) return b.error();
  }
  auto generation = RunReturning(*stmt);
  if (!generation) return generation.error();
  if (!*generation) return Error{"storing the OAuth tokens of " + t.resource + " returned no row"};
  return **generation;
}

Result<void> OAuthTokenStore::MarkRefreshStarted(const std::string& resource, int64_t now_ms) {
  auto stmt = db_.Prepare(
      "UPDATE oauth_tokens SET refresh_started_at = ?2 WHERE resource = ?1 RETURNING 1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, resource); !b) return b;
  if (auto b = stmt->BindInt64(2, now_ms); !b) return b;
  auto found = RunReturning(*stmt);
  if (!found) return found.error();
  if (!*found) {
    return Error{"no OAuth tokens of " + resource + " in " + db_.path().string() +
                 " to refresh; run `ghl-syncd auth`"};
  }
  return Ok();
}

Result<void> OAuthTokenStore::ClearRefreshMark(const std::string& resource) {
  auto stmt = db_.Prepare("UPDATE oauth_tokens SET refresh_started_at = NULL WHERE resource = ?1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, resource); !b) return b;
  return stmt->Run();
}

Result<bool> OAuthTokenStore::Remove(const std::string& resource) {
  auto stmt = db_.Prepare("DELETE FROM oauth_tokens WHERE resource = ?1 RETURNING 1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, resource); !b) return b.error();
  auto found = RunReturning(*stmt);
  if (!found) return found.error();
  return found->has_value();
}

}  // namespace ghl::state
