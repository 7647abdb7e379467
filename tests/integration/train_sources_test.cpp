// Remote sources through the real binary against a real Azure Blob emulator (Azurite): warm
// starts from a blob folder, datasets fetched from blob prefixes (merged when several), and
// training on them.
#include <gtest/gtest.h>

#include "integration/train_support.h"
#include "storage/blob_client.h"
#include "storage/blob_upload.h"
#include "storage/blob_url.h"
#include "support/azurite.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
using robotrain::test::run_robotrain;
namespace util = robotrain::util;
namespace storage = robotrain::storage;

namespace {

class BlobSources : public ::testing::Test {
 protected:
  static inline std::unique_ptr<robotrain::test::AzuriteServer> server;
  util::TempDir tmp{"rt-sources"};

  static void SetUpTestSuite() {
    if (robotrain::test::azurite_available()) server = std::make_unique<robotrain::test::AzuriteServer>();
  }
  static void TearDownTestSuite() { server.reset(); }
  void SetUp() override {
    if (!server) GTEST_SKIP() << "node or azurite missing (run scripts/install-deps.sh)";
    ASSERT_TRUE(server->error.empty()) << server->error;
  }
  // What a user sets to point robotrain at the emulator (the account key defaults to
  // Azurite's well-known one).
  std::map<std::string, std::string> env() const { return {{"AZURE_STORAGE_BLOB_ENDPOINT", server->endpoint}}; }
  void upload(const fs::path& dir, const std::string& url) const {
    storage::BlobAccess access;
    access.endpoint = server->endpoint;
    access.account_key = robotrain::test::kAzuriteKey;
    auto location = storage::parse_blob_url(url);
    storage::BlobClient(access, location.account).create_container(location.container);
    storage::upload_directory(dir, url, access);
  }
};

const std::string kBlobRoot = "https://devstoreaccount1.blob.core.windows.net/";

}  // namespace

TEST_F(BlobSources, WarmStartFromABlobFolder) {
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 2, {"--save_freq", "2"}));
  RT_SKIP_IF_POLICY_MISSING(r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path pm = tmp.path() / "a" / "checkpoints" / "000002" / "pretrained_model";
  upload(pm, kBlobRoot + "models/tiny/pretrained_model");
  r = run_robotrain(tt::train_args((tmp.path() / "b").string(), 1,
                                   {"--init-from-policy-model", kBlobRoot + "models/tiny/pretrained_model", "--policy.optimizer_lr",
                                    "0", "--policy.optimizer_lr_backbone", "0", "--policy.optimizer_weight_decay", "0"}),
                    env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(tt::max_abs_diff(pm / "model.safetensors",
                             tmp.path() / "b" / "checkpoints" / "000001" / "pretrained_model" / "model.safetensors"),
            1e-7);
  // A folder without the weights is a clear runtime error.
  r = run_robotrain(tt::train_args((tmp.path() / "c").string(), 1, {"--init-from-policy-model", kBlobRoot + "models/none"}), env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "c"));
}
