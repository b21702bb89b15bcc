// What every subcommand shares: registration, option parsing (--help, --config FILE.ini), rank.
#pragma once
#include <boost/program_options.hpp>
#include <string>
#include <utility>
#include <vector>

namespace climvae::cli {

namespace po = boost::program_options;

// A subcommand lives in drivers/cmd_<name>.cpp and registers itself with
//   static const climvae::cli::Registration registration{"name", run, "one-line summary"};
// run(argc, argv) gets argv[0] = the subcommand's name and returns the exit status.
struct Command {
  std::string name;
  int (*run)(int argc, char** argv);
  std::string summary;
};
struct Registration {
  Registration(std::string name, int (*run)(int, char**), std::string summary);
};
const std::vector<Command>& registered_commands();

// Parses a subcommand's options from argv and, when the user gives --config FILE.ini, from
// that file (the command line wins). Returns false when --help was printed and the command
// should stop. Throws climvae::Error naming the bad option.
bool parse(const std::string& command, const std::string& summary, po::options_description& options,
           int argc, char** argv, po::variables_map& vm);

// "climvae <subcommand> <options...>" as the user typed it, for the history of written files.
std::string command_line(int argc, char** argv);

// The shortest text that reads back as the same double: 0.2, not 0.20000000000000001.
std::string shortest_text(double value);

// A floating-point option whose --help shows its default as a person writes it (boost's own
// text for a double default has 17 significant digits).
inline po::typed_value<double>* real_value(double* target, double default_value) {
  return po::value(target)->default_value(default_value, shortest_text(default_value));
}

// True when `path` can be opened for reading (outputs are replaced only with --overwrite).
bool file_exists(const std::string& path);

// Checks an output path before any work is done: its directory exists, it is a regular file or
// absent (not a device, FIFO, directory or link), and it is absent unless `overwrite`. `option`
// names it in the message ("--output").
void require_output(const std::string& path, const std::string& option, bool overwrite);

// Refuses two of the named paths that are the same file (e.g. --log naming the --store): the
// later write would destroy the other. Empty paths are skipped.
void require_distinct(const std::vector<std::pair<std::string, std::string>>& option_paths);

// True on MPI rank 0 (only rank 0 prints progress).
bool is_root();

}  // namespace climvae::cli
