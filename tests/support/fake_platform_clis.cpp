#include "support/fake_platform_clis.h"

#include <fstream>
#include <utility>

#include "util/fs.h"

namespace robotrain::test {
namespace fs = std::filesystem;
namespace {

const char* kFakeAz = R"(#!/bin/sh
printf '%s\n' "az $*" >> "$FAKE_DIR/calls.log"
case "$1 $2 $3" in
  "ml environment show") exit 1 ;;
  "ml environment create") echo '{"name":"robotrain"}' ;;
  "ml job create")
    while [ $# -gt 0 ]; do
      if [ "$1" = "--file" ]; then cp "$2" "$FAKE_DIR/submitted.yaml"; fi
      shift
    done
    echo "amlrun-7f3a" ;;
  "ml job show") cat "$FAKE_DIR/aml_status" 2>/dev/null || echo Running ;;
  "ml job cancel") echo '{}' ;;
  "ml job stream") cat "$FAKE_DIR/aml_logs" 2>/dev/null || echo "streamed logs" ;;
  *) echo "unexpected az call: $*" >&2; exit 2 ;;
esac
)";

const char* kFakeOsmo = R"(#!/bin/sh
printf '%s\n' "osmo $*" >> "$FAKE_DIR/calls.log"
case "$1 $2" in
  "workflow submit") cp "$3" "$FAKE_DIR/submitted.yaml"; echo '{"name": "robotrain-wf-42", "overview": "https://osmo.example/workflows/robotrain-wf-42", "dashboard_url": "https://osmo.example/d/42"}' ;;
  "workflow query") echo "{\"name\": \"$3\", \"status\": \"$(cat "$FAKE_DIR/osmo_status" 2>/dev/null || echo RUNNING)\"}" ;;
  "workflow logs")
    if [ "$5" = "robotrain-eval" ] && [ -f "$FAKE_DIR/osmo_eval_logs" ]; then cat "$FAKE_DIR/osmo_eval_logs";
    elif [ "$5" = "robotrain-train" ] && [ -f "$FAKE_DIR/osmo_train_logs" ]; then cat "$FAKE_DIR/osmo_train_logs";
    else echo "osmo logs for $3"; fi ;;
  "workflow cancel") echo '{}' ;;
  *) echo "unexpected osmo call: $*" >&2; exit 2 ;;
esac
)";

}  // namespace

FakePlatformClis::FakePlatformClis(fs::path dir) : dir_(std::move(dir)) {
  const fs::path bin = dir_ / "bin";
  fs::create_directories(bin);
  for (auto [name, text] : {std::pair{"az", kFakeAz}, std::pair{"osmo", kFakeOsmo}}) {
    std::ofstream(bin / name) << text;
    fs::permissions(bin / name, fs::perms::owner_all);
  }
}

std::map<std::string, std::string> FakePlatformClis::env() const {
  return {{"PATH", (dir_ / "bin").string() + ":/usr/bin:/bin"}, {"FAKE_DIR", dir_.string()}};
}

std::string FakePlatformClis::calls() const {
  return fs::exists(dir_ / "calls.log") ? util::read_file(dir_ / "calls.log") : "";
}

std::string FakePlatformClis::submitted() const { return util::read_file(dir_ / "submitted.yaml"); }

}  // namespace robotrain::test
