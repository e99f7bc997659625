#include "processor/core/sha256.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <memory>

namespace touchstream {

namespace {

struct ContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Null if OpenSSL cannot provide it; Sha256 then falls back to the one-shot call.
const EVP_MD* Algorithm() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest digest;
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* const md = Algorithm();
  unsigned int size = 0;
  if (md != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) == 1 && size == digest.size()) {
    return digest;
  }
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

uint64_t Sha256Prefix64(std::string_view data) {
  const Sha256Digest digest = Sha256(data);
  uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | digest[i];
  return prefix;
}

}  // namespace touchstream
