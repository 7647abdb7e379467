// util/crypto's OpenSSL calls: a failing random source must stop, never yield a predictable id.
#define OPENSSL_SUPPRESS_DEPRECATED  // RAND_METHOD is the only way to make RAND_bytes fail on purpose
#include "util/crypto.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <set>

#include "util/error.h"

using namespace robotrain::util;

namespace {

int failing_bytes(unsigned char*, int) { return 0; }
int failing_status() { return 0; }

// Installs a random method whose every call fails, for the scope.
class FailingRandom {
 public:
  FailingRandom() : saved_(RAND_get_rand_method()) {
    method_.bytes = failing_bytes;
    method_.pseudorand = failing_bytes;
    method_.status = failing_status;
    RAND_set_rand_method(&method_);
  }
  ~FailingRandom() { RAND_set_rand_method(saved_); }

 private:
  RAND_METHOD method_{};
  const RAND_METHOD* saved_;
};

}  // namespace

TEST(Crypto, RandomIdsAreUuid4AndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    std::string id = random_uuid_hex();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id[12], '4');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(random_uuid_dashed().size(), 36u);
}

TEST(Crypto, AFailedRandBytesThrowsInsteadOfReturningAnId) {
  FailingRandom failing;
  try {
    std::string id = random_uuid_hex();
    ADD_FAILURE() << "returned " << id;
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("RAND_bytes failed"), std::string::npos) << e.what();
  }
}

TEST(Crypto, HashesMatchKnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(md5_raw("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(base64_encode(hmac_sha256_raw("key", "The quick brown fox jumps over the lazy dog")),
            "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
}
