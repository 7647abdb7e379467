#include "util/crypto.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <vector>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::util {

namespace {
// OpenSSL reports failures (no memory, a disabled algorithm, an exhausted entropy source)
// through return codes; none may be ignored, or a hash or an id would silently be garbage.
void check(int ok, const char* what) {
  if (ok != 1) throw RuntimeError(cat("OpenSSL ", what, " failed (error ", ERR_get_error(), ")"));
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr), "EVP_Digest");
  return std::string(reinterpret_cast<char*>(out), len);
}

// Streams the file in 1 MiB reads: datasets hash multi-GB video files.
std::string file_digest(const EVP_MD* md, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(cat(path.string(), ": cannot open for hashing"));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw RuntimeError("OpenSSL EVP_MD_CTX_new failed (out of memory?)");
  check(EVP_DigestInit_ex(ctx.get(), md, nullptr), "EVP_DigestInit_ex");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) check(EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount())), "EVP_DigestUpdate");
  }
  if (in.bad()) throw RuntimeError(cat(path.string(), ": read error while hashing"));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx.get(), out, &len), "EVP_DigestFinal_ex");
  return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string hex_encode(std::string_view raw) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) { return hex_encode(digest(EVP_sha256(), data)); }

std::string sha256_file_hex(const std::filesystem::path& path) { return hex_encode(file_digest(EVP_sha256(), path)); }

std::string md5_raw(std::string_view data) { return digest(EVP_md5(), data); }

std::string md5_file_raw(const std::filesystem::path& path) { return file_digest(EVP_md5(), path); }

std::string hmac_sha256_raw(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    throw RuntimeError(cat("OpenSSL HMAC failed (error ", ERR_get_error(), ")"));
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text) {
  std::string clean;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) throw RuntimeError("invalid base64 (length is not a multiple of 4)");
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) throw RuntimeError("invalid base64");
  size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string random_uuid_hex() {
  unsigned char b[16];
  // A failed RAND_bytes leaves the buffer predictable: never turn that into an id.
  if (RAND_bytes(b, sizeof b) != 1)
    throw RuntimeError(cat("cannot generate a random id: OpenSSL RAND_bytes failed (error ", ERR_get_error(),
                           "); is the system's entropy source available?"));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return hex_encode(std::string_view(reinterpret_cast<char*>(b), 16));
}

std::string random_uuid_dashed() {
  std::string h = random_uuid_hex();
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace robotrain::util
