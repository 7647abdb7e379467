#include "cli/command.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::cli {

namespace {
struct Entry {
  int order;
  CommandSetup setup;
};
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
int g_exit_code = 0;

// The name int_in / real_in give their validator, so hardening can tell a ranged option.
constexpr const char* kNumberCheck = "robotrain-number";

std::string show(double v) {
  if (v == std::numeric_limits<double>::max()) return "inf";
  if (v == -std::numeric_limits<double>::max()) return "-inf";
  return util::cat(v);
}

// The number in `text`, or nullopt; a leading '+' and surrounding blanks are allowed.
template <class T>
std::optional<T> strict_number(const std::string& text) {
  std::string t = util::trim(text);
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  T v{};
  bool ok;
  if constexpr (std::is_integral_v<T>) ok = util::parse_int64(t, v);
  else ok = util::parse_double(t, v) && std::isfinite(v);
  return ok ? std::optional<T>(v) : std::nullopt;
}

// Why `text` is not an integer in [min, max], or "" when it is (then `value` holds it).
std::string int_problem(const std::string& text, int64_t min, int64_t max, int64_t& value) {
  auto v = strict_number<int64_t>(text);
  std::string range = util::cat("[", min, ", ", max, "]");
  if (!v) {
    double d;
    bool integral_real = util::parse_double(util::trim(text), d) && std::isfinite(d) && d == std::floor(d);
    return util::cat("'", util::one_line(text), "' is not ",
                     integral_real ? "written as a plain integer" : "an integer", "; give an integer in ", range);
  }
  if (*v < min || *v > max) return util::cat(*v, " is out of range; give an integer in ", range);
  value = *v;
  return "";
}

std::string real_problem(const std::string& text, double min, double max, double& value) {
  auto v = strict_number<double>(text);
  std::string range = util::cat("[", show(min), ", ", show(max), "]");
  if (!v) return util::cat("'", util::one_line(text), "' is not a finite number; give a number in ", range);
  if (*v < min || *v > max) return util::cat(util::trim(text), " is out of range; give a number in ", range);
  value = *v;
  return "";
}

bool has_number_check(CLI::Option* opt) {
  try {
    opt->get_validator(kNumberCheck);
    return true;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

// The option's value type as CLI11 names it ("INT", "UINT", "FLOAT", "TEXT", ...).
std::string value_type(CLI::Option* opt) { return util::split(opt->get_type_name(), ':').front(); }

// Options that name a file or directory. An empty one would silently mean the working
// directory, or reach the filesystem as "" and fail there as an internal error.
bool names_a_path(const std::string& name) {
  for (const char* word : {"output", "root", "path", "dir"})
    if (name.find(word) != std::string::npos) return true;
  return false;
}

// What register_all adds to every option that takes a value (see command.h). transform()
// puts each check first, ahead of the option's own range, so the order here is reversed.
void harden_option(CLI::Option* opt) {
  if (opt->get_type_size_max() == 0) return;  // a plain flag (--json): no value
  const std::string type = value_type(opt);
  if (!has_number_check(opt)) {
    if (type == "INT") opt->transform(int_in(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
    else if (type == "UINT") opt->transform(int_in(0, std::numeric_limits<int64_t>::max()));
    else if (type == "FLOAT") opt->transform(real_in(-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()));
  }
  const std::string name = opt->get_name();
  opt->transform(CLI::Validator(
      [name](std::string& value) -> std::string {
        if (!util::is_valid_utf8(value))
          throw util::InputError(util::cat(name, " '", util::one_line(value),
                                           "' is not valid UTF-8; robotrain records its flags in JSON files, which "
                                           "hold UTF-8 only: rename the path or give a UTF-8 value"));
        return "";
      },
      ""));
  if (names_a_path(name))
    opt->transform(CLI::Validator(
        [name](std::string& value) -> std::string {
          if (value.empty()) throw util::InputError(util::cat(name, " is empty; give a file or directory path"));
          return "";
        },
        ""));
  // Arguments after `--` and pass-through options legitimately start with dashes.
  const bool passes_flags_on = opt->get_positional() || name == "--train-arg";
  if (!passes_flags_on)
    opt->transform(CLI::Validator(
        [name](std::string& value) -> std::string {
          if (util::starts_with(value, "--") && value.size() > 2)
            throw util::InputError(util::cat(name, " needs a value (the next argument is the option ",
                                             util::one_line(util::split(value, '=').front()), ")"));
          return "";
        },
        ""));
}

void harden_options(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) harden_option(opt);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) harden_options(*sub);
}

}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup setup) {
  registry().push_back({order, std::move(setup)});
}

void register_all(CLI::App& root) {
  auto entries = registry();
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
  for (auto& e : entries) e.setup(root);
  harden_options(root);
}

CLI::App& group(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return *sub;
  }
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->require_subcommand(1);
  return *sub;
}

CLI::Validator int_in(int64_t min, int64_t max) {
  // Written back in canonical decimal, so CLI11's own conversion (strtoll base 0) reads "010"
  // as 10, not 8.
  CLI::Validator v(
      [min, max](std::string& text) -> std::string {
        int64_t value = 0;
        std::string problem = int_problem(text, min, max, value);
        if (problem.empty()) text = std::to_string(value);
        return problem;
      },
      min == std::numeric_limits<int64_t>::min() || max == std::numeric_limits<int64_t>::max()
          ? ""
          : util::cat("[", min, ", ", max, "]"),
      kNumberCheck);
  return v;
}

CLI::Validator real_in(double min, double max) {
  CLI::Validator v(
      [min, max](std::string& text) -> std::string {
        double value = 0;
        std::string problem = real_problem(text, min, max, value);
        if (problem.empty()) text = util::trim(text);
        return problem;
      },
      std::isinf(min) || std::isinf(max) || min == -std::numeric_limits<double>::max()
          ? ""
          : util::cat("[", show(min), ", ", show(max), "]"),
      kNumberCheck);
  return v;
}

int64_t parse_int_flag(const std::string& flag, const std::string& text, int64_t min, int64_t max) {
  int64_t value = 0;
  std::string problem = int_problem(text, min, max, value);
  if (!problem.empty()) throw util::InputError(util::cat(flag, ": ", problem));
  return value;
}

double parse_real_flag(const std::string& flag, const std::string& text, double min, double max) {
  double value = 0;
  std::string problem = real_problem(text, min, max, value);
  if (!problem.empty()) throw util::InputError(util::cat(flag, ": ", problem));
  return value;
}

int max_loader_workers() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(16, 4 * cores);
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

}  // namespace robotrain::cli
