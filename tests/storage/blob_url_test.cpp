// Every accept/reject case of the seed's blob-URL validation (test_lerobot_validate_blob_urls.py
// and parse_blob_url in test_lerobot_dataset_assets.py), with the seed's message fragments.
#include "storage/blob_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/error.h"

using namespace robotrain;
using storage::parse_blob_url;
using storage::validate_blob_urls;
using ::testing::HasSubstr;

namespace {

std::string rejection(const std::vector<std::string>& urls) {
  try {
    validate_blob_urls(urls);
  } catch (const util::InputError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "messages are one line";
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << (urls.empty() ? "<none>" : urls[0]);
  return "";
}

}  // namespace

TEST(BlobUrl, ParsesAccountContainerPrefix) {
  auto loc = parse_blob_url("https://acct.blob.core.windows.net/cont/path/to/data");
  EXPECT_EQ(loc.account, "acct");
  EXPECT_EQ(loc.container, "cont");
  EXPECT_EQ(loc.prefix, "path/to/data");
  EXPECT_EQ(parse_blob_url("https://acct.blob.core.windows.net/cont/p/q/").prefix, "p/q");
  EXPECT_EQ(parse_blob_url("https://ACCT.Blob.Core.Windows.Net/cont/p").account, "acct");
  EXPECT_EQ(storage::blob_url_of(loc), "https://acct.blob.core.windows.net/cont/path/to/data");
}

TEST(BlobUrl, AcceptsCanonicalUrlsUpToTheMaximum) {
  EXPECT_NO_THROW(validate_blob_urls({"https://acct.blob.core.windows.net/cont/prefix"}));
  EXPECT_NO_THROW(validate_blob_urls({"https://a.blob.core.windows.net/c1/p1", "https://b.blob.core.windows.net/c2/p2/p3"}));
  std::vector<std::string> urls;
  for (size_t i = 0; i < storage::kMaxBlobUrls; ++i) urls.push_back("https://acct.blob.core.windows.net/c/p" + std::to_string(i));
  EXPECT_NO_THROW(validate_blob_urls(urls));
  urls.push_back("https://acct.blob.core.windows.net/c/p64");
  EXPECT_THAT(rejection(urls), HasSubstr("too many Blob URLs (65); maximum is 64"));
}

TEST(BlobUrl, RejectsEmptyInput) { EXPECT_THAT(rejection({}), HasSubstr("at least one Blob URL is required")); }

TEST(BlobUrl, RejectsEachSeedCaseWithItsReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"azureml:asset:1", "does not accept AzureML asset identifiers"},
      {"azureml://workspaces/x/datasets/y/versions/1", "does not accept AzureML asset identifiers"},
      {"AZUREML:asset:1", "does not accept AzureML asset identifiers"},
      {"wasbs://cont@acct.blob.core.windows.net/p", "supports HTTPS Azure Blob URLs only"},
      {"abfss://cont@acct.dfs.core.windows.net/p", "supports HTTPS Azure Blob URLs only"},
      {"http://acct.blob.core.windows.net/c/p", "must be an HTTPS Azure Blob URL"},
      {"ftp://acct.blob.core.windows.net/cont", "must be an HTTPS Azure Blob URL"},
      {"", "must be an HTTPS Azure Blob URL"},
      {"https://acct.blob.core.windows.net/c/p?sig=x", "must not include a query string"},
      {"https://acct.blob.core.windows.net/c/p#frag", "must not include a fragment"},
      {"https://acct.blob.core.windows.net:443/c/p", "must not include an explicit port"},
      {"https://user:pass@acct.blob.core.windows.net/c/p", "must not include userinfo"},
      {"https://user@acct.blob.core.windows.net/c/p", "must not include userinfo"},
      {"https://:pass@acct.blob.core.windows.net/c/p", "must not include userinfo"},
      {"https://@acct.blob.core.windows.net/c/p", "must not include userinfo"},
      {"https://evil.com@acct.blob.core.windows.net/c/p", "must not include userinfo"},
      {"https://acct.blob.core.windows.net/c/p\n", "must not contain control characters"},
      {"https://acct.blob.core.windows.net/c/p\rINJECTED", "must not contain control characters"},
      {std::string("https://acct.blob.core.windows.net/c/p\0", 39), "must not contain control characters"},
      {"https://acct.blob.core.windows.net/c/\tp", "must not contain control characters"},
      {"https://acct.blob.core.windows.net/c/p\x1b[31m", "must not contain control characters"},
      {"https://acct.blob.core.windows.net/c/p\x7f", "must not contain control characters"},
      {"https://acct.blob.core.windows.net/c/it's-path", "must not contain single-quote"},
      {"https://acct.file.core.windows.net/c/p", "must target https://ACCOUNT"},
      {"https://acct.queue.core.windows.net/c/p", "must target https://ACCOUNT"},
      {"https://acct.dfs.core.windows.net/c/p", "must target https://ACCOUNT"},
      {"https://example.com/c/p", "must target https://ACCOUNT"},
      {"https://acct.example.com/cont/p", "must target https://ACCOUNT"},
      {"https://acct.extra.blob.core.windows.net/c/p", "invalid storage account name"},
      {"https://.blob.core.windows.net/c/p", "invalid storage account name"},
      {"https://acct.blob.core.windows.net/", "must include a Blob container"},
      {"https://acct.blob.core.windows.net", "must include a Blob container"},
      {"https://acct.blob.core.windows.net/c", "must include a non-empty Blob prefix"},
      {"https://acct.blob.core.windows.net/c/", "must include a non-empty Blob prefix"},
      {"https://acct.blob.core.windows.net/c//", "must include a non-empty Blob prefix"},
  };
  for (const auto& [url, reason] : cases) {
    SCOPED_TRACE(url);
    std::string msg = rejection({url});
    EXPECT_THAT(msg, HasSubstr(reason));
    EXPECT_THAT(msg, HasSubstr("--blob-url #1"));
    EXPECT_THROW(parse_blob_url(url), util::InputError);
  }
}

TEST(BlobUrl, ControlCharactersAreShownEscaped) {
  std::string msg = rejection({"https://acct.blob.core.windows.net/c/p\rINJECTED"});
  EXPECT_THAT(msg, HasSubstr("p\\x0dINJECTED"));
}

TEST(BlobUrl, FirstInvalidUrlIsReportedWithItsPosition) {
  std::string msg = rejection({"http://acct.blob.core.windows.net/c/p", "https://acct.blob.core.windows.net/c/p"});
  EXPECT_THAT(msg, HasSubstr("must be an HTTPS Azure Blob URL: http"));
  msg = rejection({"https://acct.blob.core.windows.net/c/p", "https://acct.blob.core.windows.net/c", "ftp://x"});
  EXPECT_THAT(msg, HasSubstr("--blob-url #2 must include a non-empty Blob prefix"));
}
