// HttpGet: a blocking HTTP request with libcurl, for tests.
#pragma once

#include <curl/curl.h>

#include <string>

namespace ghl::testing {

struct HttpReply {
  long status = 0;  // 0 when the connection failed
  std::string body;
};

inline HttpReply HttpRequest(const std::string& url, const std::string& method = "GET") {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  curl_easy_cleanup(curl);
  return reply;
}

}  // namespace ghl::testing
