#include "cli.hpp"

#include <mpi.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace climvae::cli {

static std::vector<Command>& command_table() {
  static std::vector<Command> table;  // filled by static Registrations before main()
  return table;
}

Registration::Registration(std::string name, int (*run)(int, char**), std::string summary) {
  command_table().push_back({std::move(name), run, std::move(summary)});
}

const std::vector<Command>& registered_commands() { return command_table(); }

namespace {

// Boost reads "-1" into an unsigned option as 2^64 - 1 (--seed -1 would silently be another seed).
void refuse_negative_unsigned(const po::parsed_options& parsed, const po::options_description& options) {
  for (const auto& option : parsed.options) {
    const po::option_description* known = options.find_nothrow(option.string_key, false);
    if (known == nullptr) continue;
    const auto* semantic = known->semantic().get();
    const bool is_unsigned = dynamic_cast<const po::typed_value<unsigned long>*>(semantic) != nullptr ||
                             dynamic_cast<const po::typed_value<unsigned long long>*>(semantic) != nullptr ||
                             dynamic_cast<const po::typed_value<unsigned>*>(semantic) != nullptr;
    for (const std::string& value : option.value)
      require(!is_unsigned || value.find('-') == std::string::npos,
              "--" + option.string_key + " must not be negative, got '" + value + "'");
  }
}

}  // namespace

bool parse(const std::string& command, const std::string& summary, po::options_description& options,
           int argc, char** argv, po::variables_map& vm) {
  po::options_description general("General");
  general.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>(), "read options from an INI file (name = value lines)");
  po::options_description all;
  all.add(options).add(general);
  try {
    // No guessing of abbreviated names: a typo must be an error, not another option.
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    const po::parsed_options parsed = po::command_line_parser(argc, argv).options(all).style(style).run();
    refuse_negative_unsigned(parsed, all);
    po::store(parsed, vm);
    if (vm.count("help")) {
      if (is_root()) std::cout << "Usage: climvae " << command << " [options]\n" << summary << "\n\n" << all << "\n";
      return false;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      struct stat info {};
      require(::stat(path.c_str(), &info) == 0, "cannot open config file '" + path + "': no such file");
      require(S_ISREG(info.st_mode), "config file '" + path + "' is not a regular file (a directory?)");
      std::ifstream in(path);
      require(in.good(), "cannot open config file '" + path + "' (permissions?)");
      const po::parsed_options from_file = po::parse_config_file(in, options);
      require(!in.bad(), "cannot read config file '" + path + "'");
      refuse_negative_unsigned(from_file, options);
      po::store(from_file, vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see 'climvae " + command + " --help')");
  }
  return true;
}

std::string command_line(int argc, char** argv) {
  std::string text = "climvae";
  for (int i = 0; i < argc; ++i) text += std::string(" ") + argv[i];
  return text;
}

std::string shortest_text(double value) {
  char text[48];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  // %g writes 1000 as 1e+03; a person writes it out unless it is huge or tiny.
  const double magnitude = std::fabs(value);
  if (std::strchr(text, 'e') != nullptr && magnitude >= 1e-4 && magnitude < 1e15) {
    for (int decimals = 0; decimals <= 17; ++decimals) {
      std::snprintf(text, sizeof text, "%.*f", decimals, value);
      if (std::strtod(text, nullptr) == value) break;
    }
  }
  return text;
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

void require_output(const std::string& path, const std::string& option, bool overwrite) {
  namespace fs = std::filesystem;
  require(!path.empty(), option + " is empty: give a file name");
  require_output_location(path, option);
  std::error_code error;
  require(overwrite || !fs::exists(fs::symlink_status(path, error)),
          option + " '" + path + "' exists (use --overwrite to replace it)");
}

void require_distinct(const std::vector<std::pair<std::string, std::string>>& option_paths) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, fs::path>> seen;
  for (const auto& [option, path] : option_paths) {
    if (path.empty()) continue;
    std::error_code error;
    fs::path resolved = fs::weakly_canonical(path, error);
    if (error) resolved = fs::absolute(path);
    for (const auto& [other, other_path] : seen)
      require(resolved != other_path, option + " and " + other + " name the same file '" + path +
                                           "': give each its own path");
    seen.emplace_back(option, resolved);
  }
}

bool is_root() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank == 0;
}

}  // namespace climvae::cli
