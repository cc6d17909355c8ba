// OAuth 2.0 for GHL Marketplace apps (FACTS.md §1.3-1.5): TokenSources that refresh
// themselves, and the code exchange, location-token minting and uninstall that
// `ghl-syncd auth` and the INSTALL / UNINSTALL webhooks need. Tokens live in the state
// store (state/oauth_tokens.h), one row per resource (company or location id).
//
// One refresh at a time per resource: OAuthSessions hands out one OAuthTokenSource per
// resource, and a source runs one refresh at a time; callers that ask meanwhile wait for
// it and share its outcome. A refresh runs in this order:
//   1. reload the row; if another writer stored newer tokens (`ghl-syncd auth`, another
//      process), adopt them and stop
//   2. commit the refresh mark
//   3. POST /oauth/token grant_type=refresh_token; GHL spends the old refresh token as it
//      answers
//   4. commit the new pair and clear the mark, in one transaction
//   5. only then put the new access token in use and wake the waiting callers
// If the commit in 4 fails, the new pair stays in memory, unused, and the commit is retried
// before anything else; the old access token serves until then.
//
// The window no client can close: after GHL answered in 3 and before the commit in 4
// (one network hop plus one fsync, once a day per resource), a crash loses the new pair
// while the old refresh token is already spent, and GHL offers no way to repeat a refresh.
// The mark makes that visible: at start a source whose row carries the mark refreshes at
// once, so a lost pair is found at once, not a day later. Then a location token that came
// from an agency token is minted again from it (POST /oauth/locationToken) and nobody
// notices; any other resource fails with an error that says to run `ghl-syncd auth`,
// which installs a new pair (a new consent, not a reinstall) that the running daemon
// adopts at its next refresh attempt (step 1), without a restart.
//
// Refresh ahead of expiry: each source refreshes when its access token is within
// `refresh_margin` of expiry (at most half its lifetime before), on a timer, and retries
// failed attempts every `retry_delay`. GhlClient calls Refresh() after a 401.
//
// Tokens never reach a log line or an error message: they are Secrets, and GHL's error
// messages are scrubbed of the secrets a request carried before they are shown.
// Thread-safety: single-threaded, on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/ghl/client.h"
#include "connectors/ghl/curl_multi.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/secret.h"
#include "state/oauth_tokens.h"

namespace ghl::ghl_client {

struct OAuthOptions {
  std::string client_id;
  Secret client_secret;
  std::string token_url = "https://services.leadconnectorhq.com/oauth/token";
  std::string location_token_url = "https://services.leadconnectorhq.com/oauth/locationToken";
  std::string location_token_version = "2021-07-28";  // FACTS §1.2
  std::string redirect_uri;                           // sent with a code exchange when not empty
  std::chrono::milliseconds refresh_margin = std::chrono::minutes(10);
  std::chrono::milliseconds retry_delay = std::chrono::seconds(30);
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Told how each refresh ended (never with a token): "ok", "retry" (failed; tried again),
  // "minted" (a location token minted from an agency token), "adopted" (tokens another
  // process stored meanwhile), "refused" (no token left; `ghl-syncd auth` is needed).
  std::function<void(const char* outcome)> on_refresh;
};

// What a code exchange stored.
struct Installed {
  state::OAuthTokens tokens;                    // as stored
  std::vector<std::string> approved_locations;  // an agency install's approved locations
};

class OAuthTokenSource;

class OAuthSessions : public std::enable_shared_from_this<OAuthSessions> {
 public:
  template <typename T>
  using Callback = std::function<void(Result<T>)>;

  // `curl`, `db` and `clock` must outlive the sessions and every source they hand out.
  static std::shared_ptr<OAuthSessions> Create(boost::asio::io_context& io, CurlMulti& curl,
                                               state::sqlite::Db& db, const Clock& clock,
                                               OAuthOptions options);

  // The one source of `resource`, with its stored tokens loaded (none yet: Token() is
  // empty until a refresh finds some). Shared while anyone holds it.
  std::shared_ptr<OAuthTokenSource> Source(const std::string& resource);

  // Exchanges an authorization code (the `?code=` of the redirect) and stores the tokens.
  // `user_type` "Company", "Location" or empty (the install decides).
  void ExchangeCode(const std::string& code, const std::string& user_type,
                    Callback<Installed> done);
  // Mints a location token from the stored agency token of `company_id` (refreshing that
  // first when due, and once more after a 401) and stores it for `location_id`.
  void MintLocationToken(const std::string& company_id, const std::string& location_id,
                         Callback<state::OAuthTokens> done);

  // An INSTALL webhook for `location_id` of `company_id`: the location's token, minted from
  // the stored agency token, stored, and its source (started) to hand to
  // GhlClient::AddLocation.
  void OnInstall(const std::string& location_id, const std::string& company_id,
                 Callback<std::shared_ptr<TokenSource>> done);
  // An UNINSTALL webhook: forgets the tokens of `resource` (location or company id); a live
  // source of it stops refreshing and hands out no token. False if none were stored.
  Result<bool> OnUninstall(const std::string& resource);

  const OAuthOptions& options() const { return options_; }

 private:
  friend class OAuthTokenSource;
  OAuthSessions(boost::asio::io_context& io, CurlMulti& curl, state::sqlite::Db& db,
                const Clock& clock, OAuthOptions options);
  int64_t NowMs() const;
  void Post(HttpRequest request, std::function<void(HttpResponse)> done);
  void SendLocationToken(const std::shared_ptr<OAuthTokenSource>& company,
                         const std::string& location_id, bool retried,
                         Callback<state::OAuthTokens> done);
  // `text` with every secret the app sends replaced by "<redacted>".
  std::string Scrub(std::string text, const Secret& extra = Secret()) const;

  boost::asio::io_context& io_;
  CurlMulti& curl_;
  state::OAuthTokenStore store_;
  const Clock& clock_;
  OAuthOptions options_;
  std::map<std::string, std::weak_ptr<OAuthTokenSource>> sources_;
};

class OAuthTokenSource final : public TokenSource,
                               public std::enable_shared_from_this<OAuthTokenSource> {
 public:
  // Use OAuthSessions::Source.
  OAuthTokenSource(std::shared_ptr<OAuthSessions> sessions, std::string resource);
  ~OAuthTokenSource() override;
  OAuthTokenSource(const OAuthTokenSource&) = delete;
  OAuthTokenSource& operator=(const OAuthTokenSource&) = delete;

  // The access token in use; empty when none is stored.
  std::string Token() const override;
  // Refreshes now (after a 401); `done` runs on the loop once it is over.
  void Refresh(std::function<void(bool ok)> done) override;

  // Starts refreshing ahead of expiry. Refreshes at once if the tokens are due or missing,
  // or if the refresh mark says a refresh was interrupted. A location whose tokens came
  // from an agency token keeps that company's source refreshing too.
  void Start();
  // Refreshes if the access token is within the margin of its expiry (the timer calls
  // this; tests on a FakeClock call it themselves).
  void RefreshIfDue();
  // Adopts the stored tokens if another writer replaced them.
  void Reload();

  const std::string& resource() const { return resource_; }
  int64_t generation() const { return tokens_.generation; }  // 0: no tokens
  bool refreshing() const { return refreshing_; }
  // When the next refresh ahead of expiry is due.
  Clock::TimePoint DueAt() const;

 private:
  friend class OAuthSessions;
  bool LoadRow(state::OAuthTokens* row);  // false (and logged) on a store error
  void Adopt(const state::OAuthTokens& row);
  void Forget();
  void EnsureFresh(std::function<void(bool ok)> done);
  void SendRefresh(const state::OAuthTokens& row);
  void OnRefreshAnswer(const state::OAuthTokens& row, const HttpResponse& response);
  bool Commit(state::OAuthTokens tokens);
  void Recover(const state::OAuthTokens& row, const std::string& problem);
  void MintFromCompanies(std::vector<std::string> companies, std::string problem);
  void Finish(bool ok, bool retry_later);
  void Count(const char* outcome);  // OAuthOptions::on_refresh
  void ArmTimer(Clock::TimePoint at);
  // Logs `message` as an error the first time, and at debug level while it repeats.
  void Report(const std::string& message);
  std::string What() const;  // "location abc" / "company xyz", for log lines

  std::shared_ptr<OAuthSessions> sessions_;
  std::string resource_;
  state::OAuthTokens tokens_;                  // in use
  std::optional<state::OAuthTokens> unsaved_;  // answered by GHL, not committed yet
  int64_t refused_generation_ = -1;            // GHL refused the refresh token of this one
  bool refreshing_ = false;
  bool started_ = false;
  bool forgotten_ = false;
  std::string last_problem_;
  std::vector<std::function<void(bool)>> waiters_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<OAuthTokenSource> company_;  // kept refreshing for a minted location
};

}  // namespace ghl::ghl_client
