// Hostile Parquet files: counts and sizes that lie. Each must fail with one line naming the
// file, having allocated only what its bytes justify. The reader is checked directly (in a
// child process, so its peak RSS is its own) and through `robotrain dataset info`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "dataset/parquet/parquet.h"
#include "dataset_fixtures.h"
#include "parquet_hostile_util.h"
#include "parquet_test_util.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace robotrain::dataset::parquet {
namespace {

namespace fs = std::filesystem;

constexpr long kMaxRssKb = 1L << 20;  // 1 GiB
// The binary maps LibTorch and its CUDA libraries: far more address space than it touches.
constexpr int kBinaryAddressSpaceGib = 16;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct ChildOutcome {
  int status = 0;        // wait status
  long max_rss_kb = 0;   // the child's own peak RSS
  std::string message;   // what it reported
  double seconds = 0;
};

// Runs fn in a forked child (address space capped at `as_gib` unless sanitized: a regression
// must not take the shared machine down) and reports its own peak RSS and message.
ChildOutcome in_child(const std::function<std::string()>& fn, double timeout_s = 120, int as_gib = 4) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (!kSanitized) {
      rlimit lim{rlim_t(as_gib) << 30, rlim_t(as_gib) << 30};
      ::setrlimit(RLIMIT_AS, &lim);
    }
    std::string msg;
    try {
      msg = "ok:" + fn();
    } catch (const util::RuntimeError& e) {
      msg = std::string("error:") + e.what();
    } catch (const std::exception& e) {
      msg = std::string("other:") + e.what();
    }
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildOutcome out;
  std::string msg;
  char buf[4096];
  ssize_t r;
  while ((r = ::read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(r));
  ::close(fds[0]);
  rusage ru{};
  while (true) {
    pid_t w = ::wait4(pid, &out.status, WNOHANG, &ru);
    if (w == pid) break;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.max_rss_kb = ru.ru_maxrss;
  out.message = msg;
  return out;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Case {
  const char* name;
  std::function<std::string()> bytes;
  const char* expect;  // part of the error
};

std::vector<Case> cases() {
  return {
      {"sixteen_gib", [] { return hostile::sixteen_gib(); }, "more than a file of"},
      {"v2_page_beyond_chunk", [] { return hostile::v2_page_beyond_chunk(); }, "uncompressed bytes"},
      {"zstd_bomb", [] { return hostile::zstd_bomb(); }, "decoding needs more than"},
      {"huge_thrift_list", [] { return hostile::huge_thrift_list(); }, "thrift list size exceeds data"},
      {"empty_struct_flood", [] { return hostile::empty_struct_flood(); }, "more memory than their bytes justify"},
  };
}

TEST(ParquetHostile, TheSixteenGibFileIsTiny) {
  std::string bytes = hostile::sixteen_gib();
  EXPECT_LT(bytes.size(), 300u) << "the regression file is the ~200-byte one from the report";
}

TEST(ParquetHostile, EachFailsWithOneLineAndBoundedMemory) {
  util::TempDir dir;
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    fs::path p = dir.path() / (std::string(c.name) + ".parquet");
    write_bytes(p, c.bytes());
    auto out = in_child([&] {
      Reader r(p);
      Table t = r.read();
      return std::to_string(t.num_rows);
    });
    ASSERT_TRUE(WIFEXITED(out.status)) << "the reader died (status " << out.status << ")";
    EXPECT_EQ(out.message.rfind("error:", 0), 0u) << out.message;
    EXPECT_NE(out.message.find(p.string()), std::string::npos) << out.message;
    EXPECT_NE(out.message.find(c.expect), std::string::npos) << out.message;
    EXPECT_EQ(out.message.find('\n'), std::string::npos) << out.message;
    EXPECT_LT(out.max_rss_kb, kMaxRssKb) << "peak RSS " << out.max_rss_kb << " KiB";
    std::cout << "[ hostile ] " << c.name << " (" << fs::file_size(p) << " bytes): peak RSS "
              << out.max_rss_kb / 1024 << " MiB, " << out.seconds << " s: " << out.message.substr(6) << "\n";
  }
}

// Counts that are merely implausible for the bytes, one layer at a time.
TEST(ParquetHostile, PageCountsAreCheckedAgainstTheMetadataBeforeDecoding) {
  util::TempDir dir;
  using namespace hostile;
  // A v1 page claiming more values than the chunk's (honest) metadata.
  std::string body = le64(7);
  Chunk lying{"x", false, page(v1_header(1000, 8, 8), body), 1};
  // An uncompressed v2 page whose declared size differs from its stored size.
  std::string defs = rle_run(1, 1) + le64(3);
  Chunk v2{"y", true, page(v2_header(1, 1 << 20, static_cast<int32_t>(defs.size()), 2, false), defs), 1, 1 << 20};
  // Metadata claiming more values than the file can hold.
  Chunk many{"z", false, page(v1_header(1, 8, 8), le64(1)), int64_t(1) << 40};
  // A SNAPPY page claiming 22x more than snappy can produce from its bytes.
  Chunk snappy{"s", false, page(v1_header(1, 1 << 20, 16), std::string(16, '\x01')), 1, 1 << 20, format::SNAPPY};
  struct {
    Chunk c;
    int64_t rows;
    const char* expect;
  } all[] = {{lying, 1, "pages hold more values"},
             {v2, 1, "data page v2 stores"},
             {many, int64_t(1) << 40, "more than a file of"},
             {snappy, 1, "more than the codec can produce"}};
  for (auto& [c, rows, expect] : all) {
    SCOPED_TRACE(c.name);
    fs::path p = dir.path() / (c.name + ".parquet");
    write_bytes(p, file({c}, rows));
    try {
      Reader(p).read();
      ADD_FAILURE() << "read a lying file";
    } catch (const util::RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
}

// A dictionary of one 60 KB string and an RLE run repeating it 2^22 times: 240 GB of strings
// from a few dozen bytes of indices. The dictionary copies are charged before they are made.
TEST(ParquetHostile, DictionaryStringBombIsCapped) {
  Table t;
  t.num_rows = 2;
  Column s = testing::scalar_column("s", ValueType::String);
  s.strings = {std::string(60000, 'a'), std::string(60000, 'a')};
  t.columns = {s};
  util::TempDir dir;
  WriteOptions o;
  o.compression = Compression::Uncompressed;
  write_table(dir.path() / "ok.parquet", t, o);
  EXPECT_EQ(Reader(dir.path() / "ok.parquet").read().column("s").strings[1].size(), 60000u);

  // Hand-made: a dictionary page with the one string, a v2 data page of 2^22 indices.
  using namespace hostile;
  namespace f = format;
  std::string dict;
  uint32_t len = 60000;
  dict.append(reinterpret_cast<const char*>(&len), 4);
  dict += std::string(60000, 'a');
  f::PageHeader dh;
  dh.type = f::DICTIONARY_PAGE;
  dh.uncompressed_page_size = dh.compressed_page_size = static_cast<int32_t>(dict.size());
  dh.dictionary = f::DictionaryPageHeader{1, f::PLAIN_DICTIONARY};
  const int32_t n = 1 << 22;
  std::string idx = std::string(1, '\x01') + rle_run(n, 0);  // bit width 1, a run of index 0
  f::PageHeader ph = v1_header(n, static_cast<int32_t>(idx.size()), static_cast<int32_t>(idx.size()), f::RLE_DICTIONARY);
  std::string pages = page(dh, dict) + page(ph, idx);
  // Patch the schema to BYTE_ARRAY: build the file by hand around the INT64 helper.
  std::string bytes = file({Chunk{"s", false, pages, n}}, n);
  f::FileMetaData fm = [&] {
    uint32_t flen;
    std::memcpy(&flen, bytes.data() + bytes.size() - 8, 4);
    return f::decode_file_metadata(reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size() - 8 - flen, flen);
  }();
  fm.schema[1].type = f::BYTE_ARRAY;
  fm.row_groups[0].columns[0].meta.type = f::BYTE_ARRAY;
  fm.row_groups[0].columns[0].meta.dictionary_page_offset = 4;
  std::string footer = f::encode_file_metadata(fm);
  std::string out = "PAR1" + pages + footer;
  uint32_t flen = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&flen), 4);
  out += "PAR1";
  util::TempDir d2;
  fs::path p = d2.path() / "dict_bomb.parquet";
  write_bytes(p, out);
  auto res = in_child([&] { return std::to_string(Reader(p).read().num_rows); });
  EXPECT_EQ(res.message.rfind("error:", 0), 0u) << res.message;
  EXPECT_NE(res.message.find("decoding needs more than"), std::string::npos) << res.message;
  EXPECT_LT(res.max_rss_kb, kMaxRssKb);
}

TEST(ParquetHostile, AFifoIsRefusedInsteadOfBlocking) {
  util::TempDir dir;
  fs::path p = dir.path() / "pipe.parquet";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto out = in_child([&] { return std::to_string(Reader(p).info().num_rows); }, 20);
  ASSERT_TRUE(WIFEXITED(out.status)) << "blocked on the FIFO";
  EXPECT_NE(out.message.find("not a regular file"), std::string::npos) << out.message;
}

// Through the real binary: a v2.1 dataset whose episodes are reconstructed from data/, whose
// first data file is the hostile one. `dataset info` must exit 1 with one line naming it.
TEST(ParquetHostileCli, DatasetInfoFailsCleanlyWithBoundedMemory) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    util::TempDir dir;
    fs::path root = dir.path() / "ds";
    test::write_v21_fixture(root);
    fs::remove(root / "meta/episodes.jsonl");
    fs::path bad = root / "data/chunk-000/episode_000000.parquet";
    write_bytes(bad, c.bytes());
    const std::string bin = test::robotrain_bin();
    auto out = in_child(
        [&]() -> std::string {
          // The child becomes the binary; its rusage is the binary's own.
          fs::path err = dir.path() / "stderr.txt";
          int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
          ::dup2(fd, 2);
          ::dup2(fd, 1);
          ::execl(bin.c_str(), bin.c_str(), "dataset", "info", root.c_str(), static_cast<char*>(nullptr));
          ::_exit(127);
        },
        60, kBinaryAddressSpaceGib);
    ASSERT_TRUE(WIFEXITED(out.status)) << "killed by a signal or the 60 s timeout (status " << out.status << ")";
    EXPECT_EQ(WEXITSTATUS(out.status), 1);
    std::string err = util::read_file(dir.path() / "stderr.txt");
    while (!err.empty() && err.back() == '\n') err.pop_back();
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    EXPECT_NE(err.find(bad.string()), std::string::npos) << err;
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    EXPECT_LT(out.max_rss_kb, kMaxRssKb) << "peak RSS " << out.max_rss_kb << " KiB";
    std::cout << "[ hostile ] robotrain dataset info, " << c.name << ": exit " << WEXITSTATUS(out.status)
              << ", peak RSS " << out.max_rss_kb / 1024 << " MiB, " << out.seconds << " s\n";
  }
}

}  // namespace
}  // namespace robotrain::dataset::parquet
