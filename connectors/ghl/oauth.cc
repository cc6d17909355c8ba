#include "connectors/ghl/oauth.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/ghl/oauth_wire.h"
#include "state/migrations.h"

namespace ghl::ghl_client {

using oauth_wire::TokenAnswer;
using state::OAuthTokens;
using state::OAuthUserType;

namespace {

std::string Iso(int64_t unix_ms) {
  return state::FormatUtcIso8601(Clock::TimePoint(std::chrono::milliseconds(unix_ms)));
}

bool Differs(const OAuthTokens& a, const OAuthTokens& b) {
  return a.generation != b.generation || !(a.access_token == b.access_token);
}

constexpr const char* kRunAuth =
    "run `ghl-syncd auth` to authorize the app again; the daemon picks up the new tokens "
    "without a restart";

}  // namespace

// ---- OAuthSessions ---------------------------------------------------------------------

OAuthSessions::OAuthSessions(boost::asio::io_context& io, CurlMulti& curl, state::sqlite::Db& db,
                             const Clock& clock, OAuthOptions options)
    : io_(io), curl_(curl), store_(db), clock_(clock), options_(std::move(options)) {}

std::shared_ptr<OAuthSessions> OAuthSessions::Create(boost::asio::io_context& io, CurlMulti& curl,
                                                     state::sqlite::Db& db, const Clock& clock,
                                                     OAuthOptions options) {
  return std::shared_ptr<OAuthSessions>(new OAuthSessions(io, curl, db, clock, std::move(options)));
}

int64_t OAuthSessions::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

void OAuthSessions::Post(HttpRequest request, std::function<void(HttpResponse)> done) {
  request.timeout = options_.timeout;
  curl_.Start(std::move(request), std::move(done));
}

std::string OAuthSessions::Scrub(std::string text, const Secret& extra) const {
  for (const Secret* secret : {&options_.client_secret, &extra}) {
    const std::string& s = secret->Reveal();
    if (s.empty()) continue;
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at)) {
      text.replace(at, s.size(), "<redacted>");
    }
  }
  return text;
}

std::shared_ptr<OAuthTokenSource> OAuthSessions::Source(const std::string& resource) {
  std::erase_if(sources_, [](const auto& kv) { return kv.second.expired(); });
  if (auto it = sources_.find(resource); it != sources_.end()) return it->second.lock();
  auto source = std::make_shared<OAuthTokenSource>(shared_from_this(), resource);
  sources_[resource] = source;
  OAuthTokens row;
  if (source->LoadRow(&row) && !row.resource.empty()) source->Adopt(row);
  return source;
}

void OAuthSessions::ExchangeCode(const std::string& code, const std::string& user_type,
                                 Callback<Installed> done) {
  auto self = shared_from_this();
  Post(oauth_wire::CodeExchange(options_.token_url, {options_.client_id, options_.client_secret},
                                code, options_.redirect_uri, user_type),
       [self, code, done = std::move(done)](const HttpResponse& r) {
         const int64_t now = self->NowMs();
         TokenAnswer a = oauth_wire::ParseTokenAnswer(r, now, false);
         if (a.kind != TokenAnswer::Kind::kOk) {
           return done(Error{fmt::format(
               "GHL did not exchange the authorization code for tokens ({}); {}",
               self->Scrub(a.problem, Secret(code)),
               a.kind == TokenAnswer::Kind::kRejected
                   ? "a code works once and for a few minutes: authorize again for a new one"
                   : "authorize again (GHL may have used the code up)")});
         }
         a.tokens.client_id = self->options_.client_id;
         auto generation = self->store_.Put(a.tokens, now);
         if (!generation) {
           return done(Error{"GHL issued tokens for " + a.tokens.resource +
                             " but storing them failed: " + generation.error().message +
                             "; fix the state file and authorize again"});
         }
         if (auto it = self->sources_.find(a.tokens.resource); it != self->sources_.end()) {
           if (auto source = it->second.lock()) source->Reload();
         }
         a.tokens.generation = *generation;
         a.tokens.updated_at_ms = now;
         done(Installed{std::move(a.tokens), std::move(a.approved_locations)});
       });
}

void OAuthSessions::MintLocationToken(const std::string& company_id, const std::string& location_id,
                                      Callback<state::OAuthTokens> done) {
  auto company = Source(company_id);
  if (company->generation() == 0 || company->tokens_.user_type != OAuthUserType::kCompany) {
    return done(Error{"no agency (Company) OAuth tokens of company " + company_id +
                      " are stored, so no location token can be minted from them; run "
                      "`ghl-syncd auth` and install the app on the agency"});
  }
  auto self = shared_from_this();
  company->EnsureFresh([self, company, location_id, done = std::move(done)](bool ok) {
    if (!ok) {
      return done(Error{"the agency token of company " + company->resource() +
                        " cannot be refreshed (see the log); " + kRunAuth});
    }
    self->SendLocationToken(company, location_id, false, done);
  });
}

void OAuthSessions::SendLocationToken(const std::shared_ptr<OAuthTokenSource>& company,
                                      const std::string& location_id, bool retried,
                                      Callback<state::OAuthTokens> done) {
  const Secret agency = company->tokens_.access_token;
  auto self = shared_from_this();
  Post(oauth_wire::LocationToken(options_.location_token_url, options_.location_token_version,
                                 agency, company->resource(), location_id),
       [self, company, location_id, retried, agency, done](const HttpResponse& r) {
         const int64_t now = self->NowMs();
         TokenAnswer a = oauth_wire::ParseTokenAnswer(r, now, true);
         if (a.status == 401 && !retried) {  // the agency token died early: refresh, once
           return company->Refresh([self, company, location_id, done](bool ok) {
             if (!ok) {
               return done(Error{"the agency token of company " + company->resource() +
                                 " was refused and cannot be refreshed; " + kRunAuth});
             }
             self->SendLocationToken(company, location_id, true, done);
           });
         }
         if (a.kind == TokenAnswer::Kind::kOk && a.tokens.resource.empty()) {
           a.tokens.resource = location_id;
         }
         if (a.kind != TokenAnswer::Kind::kOk || a.tokens.resource != location_id) {
           return done(Error{fmt::format(
               "GHL did not mint a token for location {} from the agency token of company {} "
               "({})",
               location_id, company->resource(),
               a.kind == TokenAnswer::Kind::kOk ? "the answer names location " + a.tokens.resource
                                                : self->Scrub(a.problem, agency))});
         }
         a.tokens.company_id = company->resource();
         a.tokens.client_id = self->options_.client_id;
         auto generation = self->store_.Put(a.tokens, now);
         if (!generation) {
           return done(Error{"storing the token minted for location " + location_id +
                             " failed: " + generation.error().message});
         }
         a.tokens.generation = *generation;
         a.tokens.updated_at_ms = now;
         done(std::move(a.tokens));
       });
}

void OAuthSessions::OnInstall(const std::string& location_id, const std::string& company_id,
                              Callback<std::shared_ptr<TokenSource>> done) {
  auto existing = store_.Load(location_id);
  if (!existing) return done(existing.error());
  auto self = shared_from_this();
  auto hand_out = [self, location_id, done]() {
    auto source = self->Source(location_id);
    source->Reload();
    source->Start();
    done(std::shared_ptr<TokenSource>(source));
  };
  // A location-level install brings its own tokens (a code exchange); keep them.
  if (existing->has_value()) return hand_out();
  MintLocationToken(company_id, location_id, [hand_out, done](Result<state::OAuthTokens> minted) {
    if (!minted) return done(minted.error());
    hand_out();
  });
}

Result<bool> OAuthSessions::OnUninstall(const std::string& resource) {
  auto removed = store_.Remove(resource);
  if (!removed) return removed;
  if (auto it = sources_.find(resource); it != sources_.end()) {
    if (auto source = it->second.lock()) source->Forget();
  }
  return removed;
}

// ---- OAuthTokenSource ------------------------------------------------------------------

OAuthTokenSource::OAuthTokenSource(std::shared_ptr<OAuthSessions> sessions, std::string resource)
    : sessions_(std::move(sessions)), resource_(std::move(resource)), timer_(sessions_->io_) {}

OAuthTokenSource::~OAuthTokenSource() = default;

std::string OAuthTokenSource::Token() const { return tokens_.access_token.Reveal(); }

std::string OAuthTokenSource::What() const {
  if (tokens_.generation == 0) return "OAuth resource " + resource_;
  return (tokens_.user_type == OAuthUserType::kCompany ? "company " : "location ") + resource_;
}

void OAuthTokenSource::Report(const std::string& message) {
  if (message == last_problem_) {
    spdlog::debug("{}", message);
    return;
  }
  spdlog::error("{}", message);
  last_problem_ = message;
}

bool OAuthTokenSource::LoadRow(OAuthTokens* row) {
  auto loaded = sessions_->store_.Load(resource_);
  if (!loaded) {
    Report(What() + ": cannot read its OAuth tokens: " + loaded.error().message);
    return false;
  }
  *row = loaded->value_or(OAuthTokens{});
  return true;
}

Clock::TimePoint OAuthTokenSource::DueAt() const {
  const int64_t lifetime = tokens_.expires_at_ms - tokens_.updated_at_ms;
  int64_t margin = sessions_->options_.refresh_margin.count();
  if (lifetime > 0) margin = std::min(margin, lifetime / 2);
  return Clock::TimePoint(std::chrono::milliseconds(tokens_.expires_at_ms - margin));
}

void OAuthTokenSource::Adopt(const OAuthTokens& row) {
  tokens_ = row;
  forgotten_ = false;
  if (started_) ArmTimer(DueAt());
}

void OAuthTokenSource::Reload() {
  OAuthTokens row;
  if (LoadRow(&row) && !row.resource.empty() && Differs(row, tokens_)) Adopt(row);
}

void OAuthTokenSource::Forget() {
  forgotten_ = true;
  tokens_ = OAuthTokens{};
  unsaved_.reset();
  timer_.cancel();
  company_.reset();
}

void OAuthTokenSource::ArmTimer(Clock::TimePoint at) {
  if (forgotten_) return;
  const auto delay = std::max(Clock::Duration(0), at - sessions_->clock_.Now());
  timer_.expires_after(delay);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->RefreshIfDue();
  });
}

void OAuthTokenSource::Start() {
  if (started_) return;
  started_ = true;
  const auto& options = sessions_->options_;
  if (tokens_.generation > 0 && !tokens_.client_id.empty() &&
      tokens_.client_id != options.client_id) {
    Report(fmt::format("{}: its OAuth tokens were issued to app {}, not to ghl.oauth.client_id {}",
                       What(), tokens_.client_id, options.client_id));
  }
  if (tokens_.refresh_started_at_ms) {
    spdlog::warn(
        "{}: a token refresh started at {} never stored GHL's answer (the process stopped?); "
        "refreshing now to check that the stored refresh token still works",
        What(), Iso(*tokens_.refresh_started_at_ms));
    Refresh([](bool) {});
  } else {
    RefreshIfDue();
  }
  // A location minted from an agency token keeps that token fresh for the next mint.
  if (tokens_.user_type == OAuthUserType::kLocation && !tokens_.company_id.empty()) {
    auto company = sessions_->store_.Load(tokens_.company_id);
    if (company && company->has_value() && (*company)->user_type == OAuthUserType::kCompany) {
      company_ = sessions_->Source(tokens_.company_id);
      company_->Start();
    }
  }
}

void OAuthTokenSource::RefreshIfDue() {
  if (forgotten_ || refreshing_) return;
  if (sessions_->clock_.Now() >= DueAt()) {
    Refresh([](bool) {});
  } else if (started_) {
    ArmTimer(DueAt());
  }
}

void OAuthTokenSource::EnsureFresh(std::function<void(bool ok)> done) {
  if (!refreshing_ && !tokens_.access_token.empty() && sessions_->clock_.Now() < DueAt()) {
    return done(true);
  }
  Refresh(std::move(done));
}

void OAuthTokenSource::Refresh(std::function<void(bool ok)> done) {
  waiters_.push_back(std::move(done));
  if (refreshing_) return;  // the refresh on its way answers this caller too
  refreshing_ = true;
  if (forgotten_) return Finish(false, false);
  if (unsaved_) return Finish(Commit(*unsaved_), true);
  OAuthTokens row;
  if (!LoadRow(&row)) return Finish(false, true);
  if (row.resource.empty()) {
    // Nothing stored: a location may still be minted from a stored agency token.
    auto all = sessions_->store_.LoadAll();
    std::vector<std::string> companies;
    if (all) {
      for (const auto& t : *all) {
        if (t.user_type == OAuthUserType::kCompany) companies.push_back(t.resource);
      }
    }
    return MintFromCompanies(std::move(companies), "no OAuth tokens of it are stored");
  }
  if (Differs(row, tokens_)) {  // another writer stored new tokens: use those
    Adopt(row);
    if (sessions_->clock_.Now() < DueAt()) {
      Count("adopted");
      return Finish(true, false);
    }
  }
  if (!row.client_id.empty() && row.client_id != sessions_->options_.client_id) {
    Report(fmt::format("{}: its OAuth tokens belong to app {}, not to ghl.oauth.client_id {}; {}",
                       What(), row.client_id, sessions_->options_.client_id, kRunAuth));
    return Finish(false, false);
  }
  if (row.refresh_token.empty()) return Recover(row, "no refresh token is stored for it");
  if (row.generation == refused_generation_) return Recover(row, "GHL refused its refresh token");
  SendRefresh(row);
}

void OAuthTokenSource::SendRefresh(const OAuthTokens& row) {
  const auto& options = sessions_->options_;
  if (auto marked = sessions_->store_.MarkRefreshStarted(resource_, sessions_->NowMs()); !marked) {
    Report(What() +
           ": cannot note the token refresh in the state store: " + marked.error().message);
    return Finish(false, true);
  }
  spdlog::debug("{}: refreshing the OAuth tokens", What());
  auto self = shared_from_this();  // alive until GHL's answer is committed
  sessions_->Post(
      oauth_wire::RefreshGrant(options.token_url, {options.client_id, options.client_secret},
                               row.refresh_token, row.user_type),
      [self, row](const HttpResponse& r) { self->OnRefreshAnswer(row, r); });
}

void OAuthTokenSource::OnRefreshAnswer(const OAuthTokens& row, const HttpResponse& response) {
  TokenAnswer a = oauth_wire::ParseTokenAnswer(response, sessions_->NowMs(), false);
  spdlog::debug("{}: GHL answered the refresh with {} after {} us", What(), response.status,
                response.elapsed.count());
  const std::string problem = sessions_->Scrub(a.problem, row.refresh_token);
  if (a.kind == TokenAnswer::Kind::kOk) {
    OAuthTokens t = std::move(a.tokens);
    t.resource = resource_;
    t.user_type = row.user_type;
    if (t.company_id.empty()) t.company_id = row.company_id;
    t.client_id = sessions_->options_.client_id;
    if (t.refresh_token.empty()) t.refresh_token = row.refresh_token;  // not rotated
    if (t.scopes.empty()) t.scopes = row.scopes;
    if (!Commit(std::move(t))) {
      Count("retry");
      return Finish(false, true);
    }
    spdlog::info("{}: OAuth tokens refreshed; the access token is valid until {}", What(),
                 Iso(tokens_.expires_at_ms));
    Count("ok");
    return Finish(true, false);
  }
  if (!a.maybe_spent) {
    if (auto cleared = sessions_->store_.ClearRefreshMark(resource_); !cleared) {
      spdlog::warn("{}: {}", What(), cleared.error().message);
    }
  }
  if (a.kind == TokenAnswer::Kind::kRetryable) {
    Report(fmt::format(
        "{}: the OAuth token refresh failed ({}){}; retrying in {} s", What(), problem,
        a.maybe_spent ? "; if GHL processed it, the refresh token is spent" : "",
        std::chrono::duration_cast<std::chrono::seconds>(sessions_->options_.retry_delay).count()));
    Count("retry");
    return Finish(false, true);
  }
  refused_generation_ = row.generation;
  std::string why = "GHL refused its refresh token (" + problem + ")";
  if (row.refresh_started_at_ms) {
    why += "; a refresh started at " + Iso(*row.refresh_started_at_ms) +
           " never stored GHL's answer (the process stopped while GHL was answering), which "
           "spends the refresh token";
  }
  Recover(row, why);
}

bool OAuthTokenSource::Commit(OAuthTokens tokens) {
  const int64_t now = sessions_->NowMs();
  auto generation = sessions_->store_.Put(tokens, now);
  if (!generation) {
    Report(What() +
           ": GHL issued new OAuth tokens but storing them failed: " + generation.error().message +
           "; they stay in memory, unused, and are stored at the next attempt");
    unsaved_ = std::move(tokens);
    return false;
  }
  unsaved_.reset();
  tokens.generation = *generation;
  tokens.updated_at_ms = now;
  tokens.refresh_started_at_ms.reset();
  Adopt(tokens);  // only now is the new access token handed out
  last_problem_.clear();
  return true;
}

void OAuthTokenSource::Recover(const OAuthTokens& row, const std::string& problem) {
  OAuthTokens latest;
  if (LoadRow(&latest) && !latest.resource.empty() && Differs(latest, row)) {
    Adopt(latest);  // `ghl-syncd auth` (or another process) stored new tokens meanwhile
    Count("adopted");
    return Finish(true, false);
  }
  if (row.user_type == OAuthUserType::kLocation && !row.company_id.empty()) {
    return MintFromCompanies({row.company_id}, problem);
  }
  Report(What() + ": " + problem + "; " + kRunAuth);
  Count("refused");
  Finish(false, false);
}

void OAuthTokenSource::MintFromCompanies(std::vector<std::string> companies, std::string problem) {
  if (companies.empty()) {
    Report(What() + ": " + problem + ", and no agency token can mint a new one; " + kRunAuth);
    Count("refused");
    return Finish(false, true);
  }
  const std::string company = companies.back();
  companies.pop_back();
  auto self = shared_from_this();
  sessions_->MintLocationToken(
      company, resource_,
      [self, company, companies = std::move(companies),
       problem = std::move(problem)](Result<OAuthTokens> minted) mutable {
        if (!minted) {
          spdlog::warn("{}: {}", self->What(), minted.error().message);
          return self->MintFromCompanies(std::move(companies), std::move(problem));
        }
        self->Adopt(*minted);
        self->last_problem_.clear();
        spdlog::info("{}: {}; minted a new location token from the agency token of company {}",
                     self->What(), problem, company);
        self->Count("minted");
        self->Finish(true, false);
      });
}

void OAuthTokenSource::Count(const char* outcome) {
  if (sessions_->options_.on_refresh) sessions_->options_.on_refresh(outcome);
}

void OAuthTokenSource::Finish(bool ok, bool retry_later) {
  refreshing_ = false;
  if (!ok && retry_later && started_) {
    ArmTimer(sessions_->clock_.Now() + sessions_->options_.retry_delay);
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& done : waiters) {
    if (done) done(ok);
  }
}

}  // namespace ghl::ghl_client
