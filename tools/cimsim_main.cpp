// The `cimsim` command line program. Each subcommand lives in its own cmd_*.cpp file.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <systemc>

#include "cli_common.h"
#include "cmd_train.h"
#include "core/error.h"
#include "report_handler.h"

int sc_main(int argc, char* argv[]) {
  if (const int trained = cimsim::cli::exec_train_if_requested(argc, argv); trained >= 0) return trained;
  CLI::App app{"cimsim: cycle-level simulator of analog computing-in-memory accelerators"};
  app.require_subcommand(1);
  cimsim::cli::GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "log debug messages");
  app.add_flag("-q,--quiet", global.quiet, "log only warnings and errors");
  app.set_version_flag("--version", std::string("cimsim ") + cimsim::cli::kCimsimVersion);
  auto run_mvm = cimsim::cli::add_mvm_command(app);
  auto run_network = cimsim::cli::add_run_command(app);
  auto run_import = cimsim::cli::add_import_command(app);
  auto run_calibrate = cimsim::cli::add_calibrate_command(app);
  auto run_flow = cimsim::cli::add_flow_command(app);
  auto run_flow_report = cimsim::cli::add_flow_report_command(app);
  auto run_sweep = cimsim::cli::add_sweep_command(app);
  auto run_sweep_merge = cimsim::cli::add_sweep_merge_command(app);
  // Listed for --help only: exec_train_if_requested has already handed `train` to cimsim-train.
  app.add_subcommand("train",
                     "train a network for the simulator (runs cimsim-train; see cimsim train --help)")
      ->allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help: 0; every bad option or value: the programs' one bad-input code, 2 (CLI11's own are 100+).
    return app.exit(e) == 0 ? 0 : 2;
  }
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(global.verbose ? spdlog::level::debug
                    : global.quiet ? spdlog::level::warn
                                   : spdlog::level::info);
  cimsim::install_report_handler(false);
  return cimsim::exit_code_of([&] {
    if (app.got_subcommand("run")) return run_network();
    if (app.got_subcommand("import")) return run_import();
    if (app.got_subcommand("calibrate")) return run_calibrate();
    if (app.got_subcommand("flow")) return run_flow();
    if (app.got_subcommand("flow-report")) return run_flow_report();
    if (app.got_subcommand("sweep")) return run_sweep();
    if (app.got_subcommand("sweep-merge")) return run_sweep_merge();
    return run_mvm();
  });
}
