#pragma once
// Hashes and encodings needed by the storage and registry integrations (OpenSSL-backed).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace robotrain::util {

std::string sha256_hex(std::string_view data);
std::string sha256_file_hex(const std::filesystem::path& path);
std::string md5_raw(std::string_view data);  // 16 raw bytes
std::string md5_file_raw(const std::filesystem::path& path);  // 16 raw bytes, streamed
std::string hmac_sha256_raw(std::string_view key, std::string_view data);
std::string base64_encode(std::string_view data);
std::string base64_decode(std::string_view text);  // throws RuntimeError on invalid input
std::string hex_encode(std::string_view raw);
// A random RFC 4122 version-4 UUID as 32 lowercase hex chars (MLflow run ids) or dashed.
std::string random_uuid_hex();
std::string random_uuid_dashed();

}  // namespace robotrain::util
