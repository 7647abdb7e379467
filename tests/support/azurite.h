#pragma once
// A real Azure Blob emulator for tests: npm azurite (installed by scripts/install-deps.sh under
// tests/node) started on a free loopback port, stopped on destruction.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"
#include "util/fs.h"
#include "util/process.h"

namespace robotrain::test {

inline constexpr const char* kAzuriteAccount = "devstoreaccount1";
inline constexpr const char* kAzuriteKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

inline std::string azurite_bin() { return node_modules_dir() + "/.bin/azurite-blob"; }
inline bool azurite_available() { return node_available() && std::filesystem::exists(azurite_bin()); }

struct AzuriteServer {
  util::TempDir home{"rt-azurite-home"};
  std::unique_ptr<util::ChildProcess> process;
  std::string endpoint;  // http(s)://127.0.0.1:PORT/devstoreaccount1
  std::string error;     // non-empty when it did not start

  explicit AzuriteServer(const std::vector<std::string>& extra = {}, bool https = false) {
    int port = free_loopback_port();
    auto log = home.path() / "azurite.log";
    std::filesystem::create_directories(home.path() / "data");
    std::vector<std::string> argv{azurite_bin(), "-l", (home.path() / "data").string(), "--blobHost", "127.0.0.1",
                                  "--blobPort", std::to_string(port), "--skipApiVersionCheck", "--loose"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<util::ChildProcess>(argv, util::ProcessOptions{}, log.string(), log.string());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      std::string text = std::filesystem::exists(log) ? util::read_file(log) : "";
      if (text.find("successfully listens") != std::string::npos) break;
      if (!process->running() || std::chrono::steady_clock::now() > deadline) {
        error = "azurite did not start: " + text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    endpoint = std::string(https ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + "/" + kAzuriteAccount;
  }
};

}  // namespace robotrain::test
