#pragma once
// The first queued OpenSSL error as text (the queue is cleared), for messages a person reads.
#include <openssl/err.h>

#include <string>

namespace moe::net {

inline std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

}  // namespace moe::net
