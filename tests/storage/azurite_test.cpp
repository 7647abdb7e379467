// A real Azure Blob emulator (npm azurite, started here on a loopback port): a generated LeRobot
// dataset goes up through upload_directory and comes back through download_blob_prefix with
// Shared Key signing, paged listings and ranged GETs, byte for byte.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "dataset/synth.h"
#include "storage/blob_download.h"
#include "storage_test_util.h"
#include "support/test_support.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/process.h"

using namespace robotrain;
using storage::testing::read_tree;
using ::testing::HasSubstr;

namespace {

int free_port() {
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

// One emulator for the whole suite: starting node takes a few seconds.
class Azurite : public ::testing::Test {
 protected:
  static inline std::unique_ptr<util::TempDir> home;
  static inline std::unique_ptr<util::ChildProcess> azurite;
  static inline std::string endpoint, skip_reason, start_error;
  util::TempDir tmp{"rt-azurite"};
  storage::BlobAccess access;

  static void SetUpTestSuite() {
    std::string bin = test::node_modules_dir() + "/.bin/azurite-blob";
    if (!test::node_available() || !std::filesystem::exists(bin)) {
      skip_reason = "node or azurite missing (run scripts/install-deps.sh)";
      return;
    }
    home = std::make_unique<util::TempDir>("rt-azurite-home");
    int port = free_port();
    auto log = home->path() / "azurite.log";
    std::filesystem::create_directories(home->path() / "data");
    azurite = std::make_unique<util::ChildProcess>(
        std::vector<std::string>{bin, "-l", (home->path() / "data").string(), "--blobHost", "127.0.0.1", "--blobPort",
                                 std::to_string(port), "--skipApiVersionCheck", "--loose"},
        util::ProcessOptions{}, log.string(), log.string());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      std::string text = std::filesystem::exists(log) ? util::read_file(log) : "";
      if (text.find("successfully listens") != std::string::npos) break;
      if (!azurite->running() || std::chrono::steady_clock::now() > deadline) {
        start_error = "azurite did not start: " + text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    endpoint = "http://127.0.0.1:" + std::to_string(port) + "/" + storage::testing::kDevAccount;
  }
  static void TearDownTestSuite() {
    azurite.reset();
    home.reset();
  }
  void SetUp() override {
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_TRUE(start_error.empty()) << start_error;
    access.endpoint = endpoint;
    access.account_key = storage::testing::kDevKey;
  }
};

}  // namespace

TEST_F(Azurite, SynthDatasetRoundTripsByteForByte) {
  dataset::SynthOptions synth;
  synth.episodes = 2;
  synth.frames = 12;
  synth.height = 32;
  synth.width = 32;
  synth.codec = "mpeg4";
  synth.progress = false;
  auto src = tmp.path() / "src";
  dataset::synth_dataset(src, synth);
  // A file large enough for the block upload path and many ranged GETs.
  std::string big(33u << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  util::atomic_write_file(src / "videos" / "big.bin", big);

  const std::string url = "https://devstoreaccount1.blob.core.windows.net/datasets/synth/v1";
  storage::BlobClient client(access, storage::testing::kDevAccount);
  client.create_container("datasets");
  client.create_container("datasets");  // already exists: fine
  storage::upload_directory(src, url, access);
  // Litter that tools leave next to datasets: never downloaded.
  client.put_blob("datasets", "synth/v1/.cache/huggingface/download/meta.json", "cache");
  client.put_blob("datasets", "synth/v1/meta/info.json.lock", "");
  client.put_blob("datasets", "synth/v1/data/chunk-000/file-000.parquet.metadata", "x");
  client.put_blob("datasets", "synth/v1x/other.json", "sibling prefix");

  storage::BlobDownloadOptions options;
  options.access = access;
  options.progress = false;
  options.parallel = 4;
  options.page_size = 3;
  options.chunk_bytes = 1u << 20;
  auto dest = tmp.path() / "out" / "synth";
  auto report = storage::download_blob_prefix(url, dest, options);
  auto expected = read_tree(src);
  auto got = read_tree(dest);
  EXPECT_EQ(report.files, expected.size());
  EXPECT_EQ(report.skipped, 3u);
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [rel, bytes] : expected) {
    SCOPED_TRACE(rel);
    ASSERT_TRUE(got.count(rel));
    EXPECT_TRUE(got[rel] == bytes) << "content differs";
  }
  EXPECT_TRUE(got.count("meta/info.json"));
  // Only the final directory remains next to it: staging was renamed, not copied.
  std::vector<std::string> siblings;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path() / "out")) siblings.push_back(e.path().filename());
  EXPECT_EQ(siblings, std::vector<std::string>{"synth"});

  // An existing dataset is kept unless overwriting is asked for.
  try {
    storage::download_blob_prefix(url, dest, options);
    ADD_FAILURE() << "overwrote an existing dataset";
  } catch (const util::InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("already exists"));
  }
  util::atomic_write_file(dest / "stale.txt", "stale");
  options.overwrite = true;
  storage::download_blob_prefix(url, dest, options);
  EXPECT_FALSE(std::filesystem::exists(dest / "stale.txt"));
  EXPECT_EQ(read_tree(dest).size(), expected.size());
}

TEST_F(Azurite, WrongKeyAndCorruptMd5AreReported) {
  storage::BlobClient client(access, storage::testing::kDevAccount);
  client.create_container("corrupt");
  // Content-MD5 stored for the blob does not match its bytes: the download must notice.
  // (Put Blob checks the MD5 it is given; a block list's whole-blob MD5 is stored as sent.)
  std::string id = util::base64_encode("block-000");
  client.put_block("corrupt", "p/meta/info.json", id, "{\"fps\": 10}");
  client.put_block_list("corrupt", "p/meta/info.json", {id}, util::base64_encode(util::md5_raw("something else")));
  storage::BlobDownloadOptions options;
  options.access = access;
  options.progress = false;
  const std::string url = "https://devstoreaccount1.blob.core.windows.net/corrupt/p";
  try {
    storage::download_blob_prefix(url, tmp.path() / "d1", options);
    ADD_FAILURE() << "corrupt blob accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Content-MD5 mismatch"));
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "d1"));

  options.access.account_key = util::base64_encode(std::string(64, 'k'));
  try {
    storage::download_blob_prefix(url, tmp.path() / "d2", options);
    ADD_FAILURE() << "wrong key accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 403"));
    EXPECT_THAT(e.what(), HasSubstr("AZURE_STORAGE_KEY"));
  }
}
