#pragma once
// moe-cli subcommands register themselves: each app/cli/cmd_*.cpp defines a static
// CommandRegistration{order, name, description, setup}. main.cpp creates the CLI11 subcommand,
// lets `setup` add its options, and runs the action `setup` returned if that subcommand was
// chosen. Actions return the process exit code (0 ok, 1 error, 2 usage) and print errors
// themselves; they must not throw.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace moe::cli {

using CommandAction = std::function<int()>;
using CommandSetup = std::function<CommandAction(CLI::App& sub)>;

struct RegisteredCommand {
  int order;  ///< position in --help
  std::string name, description;
  CommandSetup setup;
};

std::vector<RegisteredCommand>& command_registry();

struct CommandRegistration {
  CommandRegistration(int order, std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back(
        {order, std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace moe::cli
