#include "core/base/command_line.h"

#include <fmt/format.h>

#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace avf {
namespace {

po::options_description config_options(const Config& defaults) {
  Config scratch = defaults;
  ConfigSchema schema(scratch);
  po::options_description desc("Configuration keys ([section] key = value in --config, or --section.key VALUE)");
  for (const auto& key : schema.keys()) {
    const std::string help = fmt::format("{} [{}]", schema.help(key), schema.get(key));
    desc.add_options()(key.c_str(), po::value<std::string>()->value_name("V"), help.c_str());
  }
  return desc;
}

po::options_description all_options(const CommandSpec& spec) {
  po::options_description all;
  all.add_options()("help,h", "show this help");
  all.add(spec.options);
  if (spec.takes_config) {
    all.add_options()("config", po::value<std::string>()->value_name("FILE"), "INI configuration file");
    all.add(config_options(Config{}));
  }
  for (const auto& [alias, key] : spec.aliases)
    all.add_options()(alias.c_str(), po::value<std::string>()->value_name("V"), ("same as --" + key).c_str());
  return all;
}

std::string nearest_option(const po::options_description& desc, const std::string& name) {
  std::string bare = name.substr(name.find_first_not_of('-'));
  bare = bare.substr(0, bare.find('='));
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& opt : desc.options()) {
    const size_t d = edit_distance(bare, opt->long_name());
    if (d < best_d) best_d = d, best = opt->long_name();
  }
  return best_d <= std::max<size_t>(2, bare.size() / 3) ? "--" + best : "";
}

}  // namespace

std::string help_text(const CommandSpec& spec) {
  std::ostringstream out;
  out << "usage: " << spec.usage << "\n\n" << spec.summary << "\n\n";
  po::options_description shown;
  shown.add_options()("help,h", "show this help");
  shown.add(spec.options);
  if (spec.takes_config)
    shown.add_options()("config", po::value<std::string>()->value_name("FILE"), "INI configuration file");
  for (const auto& [alias, key] : spec.aliases)
    shown.add_options()(alias.c_str(), po::value<std::string>()->value_name("V"), ("same as --" + key).c_str());
  out << shown;
  if (spec.takes_config) out << "\n" << config_options(Config{});
  return out.str();
}

std::optional<ParsedArgs> parse_args(const CommandSpec& spec, const std::vector<std::string>& args) {
  const po::options_description all = all_options(spec);
  ParsedArgs result;
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(args)
                 .options(all)
                 .positional(spec.positional)
                 .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                 .run();
    po::store(parsed, result.vm);
    if (result.vm.count("help")) {  // before notify(), which would complain about required options
      std::cout << help_text(spec);
      return std::nullopt;
    }
    po::notify(result.vm);
  } catch (const po::unknown_option& e) {
    const std::string near = nearest_option(all, e.get_option_name());
    throw ConfigError(fmt::format("command line: unknown option '{}'{}", e.get_option_name(),
                                  near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
  } catch (const po::error& e) {
    throw ConfigError(fmt::format("command line: {}", e.what()));
  }
  if (spec.takes_config) {
    if (result.vm.count("config")) apply_config_file(result.config, result.vm["config"].as<std::string>());
    // Command-line keys are applied after the file, in order, so they win.
    ConfigSchema schema(result.config);
    for (const auto& opt : parsed.options) {
      std::string key = opt.string_key;
      for (const auto& [alias, target] : spec.aliases)
        if (key == alias) key = target;
      if (schema.has(key)) schema.set(key, opt.value.at(0), "command line");
    }
    validate(result.config);
  }
  return result;
}

}  // namespace avf
