// The wire format of GHL's OAuth endpoints (FACTS.md §1.3, §1.5), with no IO and no
// clock: request builders for POST /oauth/token and POST /oauth/locationToken, and the
// parser of their answers.
//
// Both endpoints take application/x-www-form-urlencoded bodies. /oauth/token declares no
// Version header and no bearer token; /oauth/locationToken wants the agency token and
// Version 2021-07-28. Secrets go into the request only; nothing returned here for logging
// (TokenAnswer::problem) contains one.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "connectors/ghl/curl_multi.h"
#include "core/secret.h"
#include "state/oauth_tokens.h"

namespace ghl::ghl_client::oauth_wire {

struct AppCredentials {
  std::string client_id;
  Secret client_secret;
};

// "a=1&b=x%20y": each name and value percent-encoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// grant_type=authorization_code. `user_type` "Company" or "Location", or empty to leave the
// choice to GHL (the install decides it); `redirect_uri` empty to leave it out.
HttpRequest CodeExchange(const std::string& token_url, const AppCredentials& app,
                         const std::string& code, const std::string& redirect_uri,
                         const std::string& user_type);
// grant_type=refresh_token for a token of `user_type`.
HttpRequest RefreshGrant(const std::string& token_url, const AppCredentials& app,
                         const Secret& refresh_token, state::OAuthUserType user_type);
// A location token from the agency token of `company_id`.
HttpRequest LocationToken(const std::string& url, const std::string& version,
                          const Secret& agency_token, const std::string& company_id,
                          const std::string& location_id);

struct TokenAnswer {
  enum class Kind {
    kOk,         // new tokens in `tokens`
    kRejected,   // GHL refused (4xx other than 408 and 429): retrying will not help
    kRetryable,  // no answer, 408, 429, 5xx, or an unreadable success: try again later
  };
  Kind kind = Kind::kRetryable;
  // GHL may have spent the grant (code or refresh token) without us learning the new
  // tokens: no HTTP answer arrived, or a 2xx answer could not be read.
  bool maybe_spent = false;
  // kOk: resource, user type, company, access and refresh token, expiry and scopes.
  // client_id, generation and the times are left for the caller.
  state::OAuthTokens tokens;
  std::vector<std::string> approved_locations;  // an agency install's `approvedLocations`
  long status = 0;
  std::string problem;  // what went wrong: status and GHL's (or curl's) message
};

// Reads an answer of /oauth/token (`locationToken` false) or /oauth/locationToken
// (`locationToken` true: the answer has no userType, it is always a Location token),
// received at `now_ms` (Unix ms).
TokenAnswer ParseTokenAnswer(const HttpResponse& response, int64_t now_ms, bool location_token);

}  // namespace ghl::ghl_client::oauth_wire
