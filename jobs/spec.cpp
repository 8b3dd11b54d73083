#include "jobs/spec.h"

#include "core/base/text.h"

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "core/base/files.h"
#include "core/base/ini.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace avf::jobs {
namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(trim(text.substr(start, comma - start)));
  out.push_back(trim(text.substr(start)));
  return out;
}

struct SpecReader {
  std::string path;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError(
        fmt::format("{}: [{}] {}: {}", path, key.substr(0, key.find('.')), key.substr(key.find('.') + 1), what));
  }
  int to_int(const std::string& key, const std::string& v, int min) const {
    try {
      size_t used = 0;
      const int x = std::stoi(v, &used);
      if (used == v.size() && x >= min) return x;
    } catch (const std::exception&) {
    }
    fail(key, fmt::format("expected an integer >= {}, got '{}'", min, v));
  }
  double to_double(const std::string& key, const std::string& v) const {
    try {
      size_t used = 0;
      const double x = std::stod(v, &used);
      if (used == v.size() && std::isfinite(x)) return x;
    } catch (const std::exception&) {
    }
    fail(key, fmt::format("expected a number, got '{}'", v));
  }
  std::string one_of(const std::string& key, const std::string& v, std::initializer_list<const char*> choices) const {
    for (const char* c : choices)
      if (v == c) return v;
    std::string list;
    for (const char* c : choices) list += (list.empty() ? "" : " | ") + std::string(c);
    fail(key, fmt::format("expected {}, got '{}'", list, v));
  }
  // Names rendered into #SBATCH lines: sbatch splits them on spaces and quotes, so keep them plain.
  std::string plain_name(const std::string& key, const std::string& v) const {
    if (!std::regex_match(v, std::regex("[A-Za-z0-9._-]*")))
      fail(key, fmt::format("'{}' may only contain letters, digits, '.', '_' and '-'", v));
    return v;
  }

  RandomParam random_param(const std::string& key, const std::string& v) const {
    std::smatch m;
    if (!std::regex_match(v, m, std::regex(R"((uniform|loguniform|randint|choice)\s*\((.*)\))")))
      fail(key,
           fmt::format("expected uniform(a, b), loguniform(a, b), randint(a, b) or choice(v1, v2, ...), got '{}'", v));
    RandomParam p;
    p.kind = m[1];
    const auto args = split_list(m[2]);
    if (p.kind == "choice") {
      p.values = args;
      if (args.empty() || args.front().empty()) fail(key, "choice() needs at least one value");
      return p;
    }
    if (args.size() != 2) fail(key, fmt::format("{}() takes two bounds, got '{}'", p.kind, v));
    p.low = to_double(key, args[0]);
    p.high = to_double(key, args[1]);
    if (!(p.low <= p.high)) fail(key, fmt::format("{}(): lower bound {} above upper bound {}", p.kind, p.low, p.high));
    if (p.kind == "loguniform" && p.low <= 0) fail(key, "loguniform() needs positive bounds");
    if (p.kind == "randint" && (p.low != std::floor(p.low) || p.high != std::floor(p.high)))
      fail(key, "randint() needs integer bounds");
    return p;
  }
};

std::string resolve(const fs::path& dir, const std::string& p) {
  if (p.empty()) return p;
  return fs::absolute(dir / p).lexically_normal().string();
}

// Uniform double in [0, 1) from 53 random bits: the same on every platform, unlike
// std::uniform_real_distribution, so a spec plans the same trials everywhere.
double unit(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

std::string draw(const RandomParam& p, std::mt19937_64& rng) {
  const double u = unit(rng);
  if (p.kind == "choice") return p.values[std::min(p.values.size() - 1, size_t(u * double(p.values.size())))];
  if (p.kind == "randint") return fmt::format("{}", int64_t(p.low) + int64_t(u * (p.high - p.low + 1)));
  const double x = p.kind == "uniform" ? p.low + u * (p.high - p.low)
                                       : std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)));
  return fmt::format("{:.4g}", x);  // 4 significant digits: readable ids and tables, plenty for a sweep
}

// The keys of the [sweep], [resources] and [early-stopping] sections, each with how it is read and
// checked: one row per key, so adding a key is adding a row.
struct SpecValue {
  SweepSpec& spec;
  const SpecReader& reader;
  const std::string& key;
  const std::string& text;
  const fs::path& dir;  // the spec's folder: relative paths are relative to it
  int integer(int min) const { return reader.to_int(key, text, min); }
  std::string one_of(std::initializer_list<const char*> allowed) const { return reader.one_of(key, text, allowed); }
  std::string name() const { return reader.plain_name(key, text); }
};
const std::map<std::string, void (*)(const SpecValue&)> kSpecKeys = {
    {"sweep.name",
     [](const SpecValue& v) { v.spec.name = v.name(), v.spec.out = resolve(v.dir, "sweeps/" + v.spec.name); }},
    {"sweep.base", [](const SpecValue& v) { v.spec.base = resolve(v.dir, v.text); }},
    {"sweep.out", [](const SpecValue& v) { v.spec.out = resolve(v.dir, v.text); }},
    {"sweep.metric", [](const SpecValue& v) { v.spec.metric = v.text; }},
    {"sweep.mode",
     [](const SpecValue& v) {
       v.spec.mode = v.one_of({"max", "min"});
     }},
    {"sweep.trials", [](const SpecValue& v) { v.spec.trials = v.integer(1); }},
    {"sweep.seed", [](const SpecValue& v) { v.spec.seed = uint64_t(v.integer(0)); }},
    {"resources.ranks", [](const SpecValue& v) { v.spec.resources.ranks = v.integer(1); }},
    {"resources.cpus-per-rank", [](const SpecValue& v) { v.spec.resources.cpus_per_rank = v.integer(1); }},
    {"resources.gpus-per-rank", [](const SpecValue& v) { v.spec.resources.gpus_per_rank = v.integer(0); }},
    {"resources.time",
     [](const SpecValue& v) {
       if (!std::regex_match(v.text, std::regex(R"((\d+-)?\d+(:\d\d){0,2})")))
         v.reader.fail(v.key,
                       fmt::format("expected a SLURM time limit (minutes, HH:MM:SS or D-HH:MM:SS), got '{}'", v.text));
       v.spec.resources.time = v.text;
     }},
    {"resources.throttle", [](const SpecValue& v) { v.spec.resources.throttle = v.integer(1); }},
    {"resources.signal",
     [](const SpecValue& v) {
       v.spec.resources.signal = v.one_of({"USR1", "USR2", "TERM", "INT"});
     }},
    {"resources.signal-lead", [](const SpecValue& v) { v.spec.resources.signal_lead = v.integer(1); }},
    {"resources.partition", [](const SpecValue& v) { v.spec.resources.partition = v.name(); }},
    {"resources.account", [](const SpecValue& v) { v.spec.resources.account = v.name(); }},
    {"early-stopping.rule",
     [](const SpecValue& v) {
       v.spec.early_stopping.rule = v.one_of({"none", "median", "asha"});
     }},
    {"early-stopping.grace", [](const SpecValue& v) { v.spec.early_stopping.grace = v.integer(1); }},
    {"early-stopping.min-trials", [](const SpecValue& v) { v.spec.early_stopping.min_trials = v.integer(1); }},
    {"early-stopping.eta", [](const SpecValue& v) { v.spec.early_stopping.eta = v.integer(2); }},
};

}  // namespace

SweepSpec load_sweep_spec(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError(fmt::format("cannot open sweep spec '{}': {}", path, std::strerror(errno)));
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  ini_key_lines(text, path);  // a key given twice is an error naming both lines; Boost would keep the last
  std::istringstream in(text);
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::parse_config_file(in, po::options_description(), /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw ConfigError(fmt::format("{}: {}", path, e.what()));
  }
  const SpecReader r{path};
  const fs::path dir = fs::absolute(path).parent_path();
  SweepSpec s;
  s.path = fs::absolute(path).string();
  s.name = plain_name(fs::path(path).stem().string());
  s.out = resolve(dir, "sweeps/" + s.name);
  Config scratch;
  ConfigSchema schema(scratch);
  for (const auto& opt : parsed.options) {
    const std::string& key = opt.string_key;
    const std::string v = opt.value.empty() ? "" : trim(opt.value.front());
    const auto dot = key.find('.');
    if (dot == std::string::npos) r.fail("sweep." + key, "keys belong in a [section]");
    const std::string section = key.substr(0, dot), name = key.substr(dot + 1);
    if (section == "fixed" || section == "grid" || section == "random") {
      if (!schema.has(name)) {
        const std::string near = schema.nearest(name);
        r.fail(key, fmt::format("unknown configuration key '{}'{}", name,
                                near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
      }
      if (name == "train.out" || name == "checkpoint.dir" || name == "log.metrics")
        r.fail(key, "the sweep gives every trial its own directory; this key cannot be set");
      if (section == "fixed") s.fixed[name] = v;
      if (section == "grid") {
        s.grid[name] = split_list(v);
        for (const auto& x : s.grid[name])
          if (x.empty()) r.fail(key, fmt::format("empty value in the list '{}'", v));
      }
      if (section == "random") s.random[name] = r.random_param(key, v);
    } else if (const auto setter = kSpecKeys.find(key); setter != kSpecKeys.end()) {
      setter->second({s, r, key, v, dir});
    } else {
      r.fail(key,
             "unknown key (sections: sweep, fixed, grid, random, resources, early-stopping; see docs/commands.md, "
             "avf sweep)");
    }
  }
  for (const auto& [key, values] : s.grid)
    if (s.random.count(key)) r.fail("random." + key, "also listed in [grid]; sweep it in one of them");
  if (s.base.size() && !fs::exists(s.base)) r.fail("sweep.base", fmt::format("'{}' does not exist", s.base));
  if (s.random.empty() && s.trials != 1) r.fail("sweep.trials", "a trial budget needs a [random] section");
  return s;
}

double time_limit_seconds(const std::string& t) {
  const auto dash = t.find('-');
  const double days = dash == std::string::npos ? 0 : std::stod(t.substr(0, dash));
  std::vector<double> f;
  std::string rest = dash == std::string::npos ? t : t.substr(dash + 1);
  for (size_t colon; (colon = rest.find(':')) != std::string::npos; rest = rest.substr(colon + 1))
    f.push_back(std::stod(rest.substr(0, colon)));
  f.push_back(std::stod(rest));
  double s = 0;
  if (dash != std::string::npos) {
    const double units[] = {3600, 60, 1};  // hours[:minutes[:seconds]]
    for (size_t i = 0; i < f.size(); ++i) s += f[i] * units[i];
  } else if (f.size() == 3) {
    s = f[0] * 3600 + f[1] * 60 + f[2];
  } else {
    s = f[0] * 60 + (f.size() == 2 ? f[1] : 0);  // minutes[:seconds]
  }
  return days * 86400 + s;
}

std::string plain_name(std::string text) {
  for (char& c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return text;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void check_ini_value(const std::string& value, const std::string& key, const std::string& where) {
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f || c == '#')
      throw ConfigError(fmt::format("{}: value of '{}' contains {}, which an INI file cannot carry", where, key,
                                    c == '#' ? "'#'" : fmt::format("control character 0x{:02x}", unsigned(c))));
  if (value != trim(value))
    throw ConfigError(fmt::format("{}: value of '{}' has leading or trailing blanks", where, key));
}

std::string trial_id(const std::map<std::string, std::string>& params) {
  std::string canonical;
  for (const auto& [k, v] : params) canonical += k + "=" + v + "\n";
  return sha256_hex(canonical).substr(0, 12);
}

std::vector<Trial> plan_trials(const SweepSpec& spec) {
  Config scratch;
  ConfigSchema schema(scratch);
  // The schema's own printing of a value is its canonical form ("1e-3" and "0.001" are one trial).
  auto canonical = [&](const std::string& key, const std::string& value, const std::string& section) {
    const std::string where = fmt::format("{}: [{}] {}", spec.path, section, key);
    check_ini_value(value, key, where);
    schema.set(key, value, where);
    return schema.get(key);
  };
  for (const auto& [k, v] : spec.fixed) canonical(k, v, "fixed");
  // The metric must be one the trainer reports, or every trial would fail at its first validation.
  const Config base = trial_config(spec, Trial{}, "");
  if (spec.metric != "mean" &&
      std::find(base.data.targets.begin(), base.data.targets.end(), spec.metric) == base.data.targets.end()) {
    std::string targets;
    for (const auto& t : base.data.targets) targets += ", " + t;
    throw ConfigError(fmt::format("{}: [sweep] metric: expected mean{}, got '{}'", spec.path, targets, spec.metric));
  }

  std::vector<std::map<std::string, std::string>> points{{}};
  for (const auto& [key, values] : spec.grid) {
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& p : points)
      for (const auto& v : values) {
        auto q = p;
        q[key] = canonical(key, v, "grid");
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  std::mt19937_64 rng(spec.seed);
  std::vector<Trial> trials;
  std::set<std::string> ids;
  for (const auto& point : points)
    for (int n = 0; n < spec.trials; ++n) {
      Trial t{"", point};
      for (const auto& [key, p] : spec.random) t.params[key] = canonical(key, draw(p, rng), "random");
      t.id = trial_id(t.params);
      if (ids.insert(t.id).second) trials.push_back(std::move(t));
    }
  return trials;
}

Config trial_config(const SweepSpec& spec, const Trial& trial, const std::string& trial_dir) {
  Config c;
  if (!spec.base.empty()) apply_config_file(c, spec.base);
  ConfigSchema schema(c);
  for (const auto& [k, v] : spec.fixed) schema.set(k, v, spec.path + ": [fixed] " + k);
  for (const auto& [k, v] : trial.params) schema.set(k, v, "trial " + trial.id + ": " + k);
  c.train.out = trial_dir;
  c.checkpoint.dir.clear();
  c.log.metrics.clear();
  c.checkpoint.metric = spec.metric;
  c.checkpoint.signal = spec.resources.signal;
  c.checkpoint.resume = "auto";
  // The trial wrapper records the preemption first and requeues itself; see trial_wrapper.cpp.
  c.checkpoint.requeue = false;
  c.train.threads = spec.resources.cpus_per_rank;
  return c;
}

}  // namespace avf::jobs
