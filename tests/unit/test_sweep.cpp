// Sweep specs, planner, quoting, early-stopping rules, leaderboard and the SLURM submission logic
// (against stand-in sbatch/scontrol on PATH; the real cluster is in tests/slurm).
// Over 400 lines: one binary for the jobs library, so the stand-in commands and the spec fixtures
// are set up once; each TEST is independent and named after the part of jobs/ it covers.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/config.h"
#include "core/base/files.h"
#include "jobs/process.h"
#include "jobs/report.h"
#include "jobs/runner.h"
#include "run_command.h"

namespace fs = std::filesystem;
using namespace avf::jobs;

namespace {

std::string write_spec(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/spec.ini";
  write_file(path, text);
  return path;
}

Validation val(int epoch, double v) { return {epoch, v, {}}; }

// How many times `needle` occurs in the file at `path`.
int occurrences(const std::string& path, const std::string& needle) {
  const std::string text = avf::read_file(path);
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

std::vector<Validation> curve(std::initializer_list<double> values) {
  std::vector<Validation> out;
  int e = 0;
  for (double v : values) out.push_back(val(++e, v));
  return out;
}

}  // namespace

TEST(SweepSpec, GridProductWithCanonicalValuesAndStableIds) {
  const auto dir = make_temp_dir("spec");
  const auto path = write_spec(dir,
                               "[sweep]\nname = s1\n[fixed]\ntrain.epochs = 3\n"
                               "[grid]\ntrain.lr = 1e-3, 0.001, 0.01\nmodel.fusion = concat, cross-attention\n");
  const auto spec = load_sweep_spec(path);
  EXPECT_EQ(spec.out, dir + "/sweeps/s1");
  const auto trials = plan_trials(spec);
  // 1e-3 and 0.001 are one value: 2 learning rates x 2 fusion heads.
  ASSERT_EQ(trials.size(), 4u);
  std::set<std::string> ids;
  for (const auto& t : trials) {
    ids.insert(t.id);
    EXPECT_EQ(t.id.size(), 12u);
    EXPECT_EQ(t.id, trial_id(t.params));
  }
  EXPECT_EQ(ids.size(), 4u);
  // The id is the hash of the sorted "key=value" lines of the swept values (not the fixed ones), so anyone
  // can recompute it: `printf 'model.fusion=concat\ntrain.lr=0.001\n' | sha256sum` starts 67d4c0f6328c.
  const std::map<std::string, std::string> concat_001{{"model.fusion", "concat"}, {"train.lr", "0.001"}};
  const auto found = std::find_if(trials.begin(), trials.end(), [&](const auto& t) { return t.params == concat_001; });
  ASSERT_NE(found, trials.end()) << "no trial with exactly the swept values concat, 0.001";
  EXPECT_EQ(found->id, "67d4c0f6328c");
  // Planning again gives the same trials in the same order.
  const auto again = plan_trials(load_sweep_spec(path));
  for (size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(again[i].id, trials[i].id);
}

TEST(SweepSpec, RandomDrawsAreSeededInBoundsAndCombinedWithTheGrid) {
  const auto dir = make_temp_dir("spec");
  const auto text = [](int seed) {
    return "[sweep]\ntrials = 5\nseed = " + std::to_string(seed) +
           "\n[grid]\nmodel.fusion = concat, lstm\n[random]\ntrain.lr = loguniform(1e-5, 1e-2)\n"
           "model.dropout = uniform(0.1, 0.6)\nmodel.hidden = choice(64, 128)\ntrain.batch-size = randint(4, 8)\n";
  };
  const auto a = plan_trials(load_sweep_spec(write_spec(dir, text(7))));
  ASSERT_EQ(a.size(), 10u);
  for (const auto& t : a) {
    const double lr = std::stod(t.params.at("train.lr")), d = std::stod(t.params.at("model.dropout"));
    const int bs = std::stoi(t.params.at("train.batch-size"));
    EXPECT_GE(lr, 1e-5);
    EXPECT_LE(lr, 1e-2);
    EXPECT_GE(d, 0.1);
    EXPECT_LE(d, 0.6);
    EXPECT_TRUE(t.params.at("model.hidden") == "64" || t.params.at("model.hidden") == "128");
    EXPECT_TRUE(bs >= 4 && bs <= 8);
  }
  const auto same = plan_trials(load_sweep_spec(write_spec(dir, text(7))));
  const auto other = plan_trials(load_sweep_spec(write_spec(dir, text(8))));
  EXPECT_EQ(same[3].id, a[3].id);
  EXPECT_NE(other[3].id, a[3].id);
}

TEST(SweepSpec, DuplicateDrawsCollapse) {
  const auto dir = make_temp_dir("spec");
  const auto trials = plan_trials(
      load_sweep_spec(write_spec(dir, "[sweep]\ntrials = 20\n[random]\nmodel.fusion = choice(concat, lstm)\n")));
  EXPECT_EQ(trials.size(), 2u);
}

TEST(SweepSpec, ErrorsNameTheFileTheFieldAndWhatWasExpected) {
  const auto dir = make_temp_dir("spec");
  auto error_of = [&](const std::string& text) -> std::string {
    try {
      plan_trials(load_sweep_spec(write_spec(dir, text)));
    } catch (const avf::ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(
      error_of("[grid]\ntrain.lrr = 1, 2\n").find("unknown configuration key 'train.lrr' (did you mean 'train.lr'?)"),
      std::string::npos);
  EXPECT_NE(error_of("[random]\ntrain.lr = gauss(1, 2)\n").find("[random] train.lr: expected uniform(a, b)"),
            std::string::npos);
  EXPECT_NE(error_of("[resources]\ntime = 1h\n").find("[resources] time: expected a SLURM time limit"),
            std::string::npos);
  EXPECT_NE(error_of("[resources]\npartition = gpu;reboot\n").find("may only contain letters"), std::string::npos);
  EXPECT_NE(error_of("[resources]\nranks = 0\n").find("expected an integer >= 1, got '0'"), std::string::npos);
  EXPECT_NE(error_of("[sweep]\nmode = maximum\n").find("expected max | min"), std::string::npos);
  EXPECT_NE(error_of("[grid]\nmodel.hidden = 64, wide\n").find("model.hidden"), std::string::npos);
  EXPECT_NE(error_of("[grid]\nmodel.fusion = concat, perceiver\n").find("perceiver"), std::string::npos);
  EXPECT_NE(error_of("[fixed]\ntrain.out = /tmp/x\n").find("cannot be set"), std::string::npos);
  EXPECT_NE(error_of("[sweep]\nbase = missing.ini\n").find("missing.ini' does not exist"), std::string::npos);
  EXPECT_NE(
      error_of("[sweep]\nmetric = valance\n").find("[sweep] metric: expected mean, valence, arousal, got 'valance'"),
      std::string::npos);
  EXPECT_NE(error_of("[sweep]\nfoo = 1\n").find("spec.ini: [sweep] foo: unknown key"), std::string::npos);
}

TEST(SweepSpec, DuplicateKeysNameBothLines) {
  const auto dir = make_temp_dir("spec");
  const std::string path = dir + "/spec.ini";
  auto error_of = [&](const std::string& text) -> std::string {
    try {
      load_sweep_spec(write_spec(dir, text));
    } catch (const avf::ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(
      error_of("[grid]\ntrain.lr = 0.1, 0.2\ntrain.lr = 0.3\n"),
      path + ":3: duplicate key 'grid.train.lr': already set at " + path + ":2 (expected each key once per file)");
  // Across a repeated section, where Boost would silently keep the last value.
  EXPECT_EQ(error_of("[sweep]\nseed = 1\n[grid]\ntrain.lr = 0.1\n[sweep]\nseed = 2\n"),
            path + ":6: duplicate key 'sweep.seed': already set at " + path + ":2 (expected each key once per file)");
  // The same configuration key in two sections is another matter (and has its own message).
  EXPECT_NE(
      error_of("[grid]\ntrain.lr = 0.1, 0.2\n[random]\ntrain.lr = uniform(0.1, 0.2)\n").find("also listed in [grid]"),
      std::string::npos);
}

TEST(SweepQuoting, ShellQuoteSurvivesBashLiterally) {
  const auto dir = make_temp_dir("quote");
  for (const std::string& nasty :
       std::vector<std::string>{"plain", "two words", "it's", "$(touch " + dir + "/pwned)", "`touch " + dir + "/pwned`",
                                "a;b|c&d>e", "\"double\" 'single' \\back", "*?[x]~", "-n", ""}) {
    const auto r = run_command("printf '%s' " + shell_quote(nasty));
    EXPECT_EQ(r.output, nasty);
  }
  EXPECT_FALSE(fs::exists(dir + "/pwned"));
}

TEST(SweepQuoting, ValuesAnIniFileCannotCarryAreRejected) {
  EXPECT_THROW(check_ini_value("a\nb", "k", "here"), avf::ConfigError);
  EXPECT_THROW(check_ini_value("a#b", "k", "here"), avf::ConfigError);
  EXPECT_THROW(check_ini_value(" a", "k", "here"), avf::ConfigError);
  EXPECT_NO_THROW(check_ini_value("$(rm -rf /); `x` 'y' \"z\" | & ;", "k", "here"));
}

TEST(SweepQuoting, ShellMetacharactersInValuesReachTheTrialLiterally) {
  const auto dir = make_temp_dir("meta");
  const std::string evil = "$(touch " + dir + "/pwned); `touch " + dir + "/pwned2` 'q' \"d\" | & ;";
  const auto spec = load_sweep_spec(write_spec(dir, "[grid]\ndata.features = " + evil + ", plain\n"));
  const auto trials = plan_trials(spec);
  ASSERT_EQ(trials.size(), 2u);
  prepare_sweep(spec, trials);
  const auto plan = load_plan(spec.out);
  // The array script holds only ids and quoted paths, never a value ...
  const auto script = render_array_script(plan, {trials[0].id, trials[1].id}, "/opt/avf/bin/avf");
  EXPECT_EQ(script.find("pwned"), std::string::npos);
  // ... and each trial's config carries the value byte for byte.
  avf::Config c;
  for (const auto& t : trials) {
    avf::apply_config_file(c, trial_dir(spec.out, t.id) + "/config.ini");
    EXPECT_EQ(c.data.features, t.params.at("data.features"));
  }
  EXPECT_FALSE(fs::exists(dir + "/pwned"));
  EXPECT_FALSE(fs::exists(dir + "/pwned2"));
}

TEST(SweepQuoting, RenderedArrayScriptRunsWithOddPaths) {
  // A sweep directory and an avf path with spaces, quotes and $(...): the script must pass them on
  // as single arguments and execute nothing.
  const auto root = make_temp_dir("render");
  const std::string odd = root + "/it's a $(touch " + root + "/pwned) dir";
  fs::create_directories(odd);
  const std::string fake_avf = odd + "/avf";
  write_file(fake_avf, "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\n");
  fs::permissions(fake_avf, fs::perms::owner_all);
  const auto spec =
      load_sweep_spec(write_spec(root,
                                 "[sweep]\nname = odd\nout = sw\n[grid]\ntrain.lr = 0.1, 0.2\n"
                                 "[resources]\nranks = 2\ncpus-per-rank = 3\ntime = 0:10:00\nthrottle = 1\n"));
  const auto trials = plan_trials(spec);
  prepare_sweep(spec, trials);
  auto plan = load_plan(spec.out);
  plan.dir = odd;  // the directory as the script sees it
  const auto script = render_array_script(plan, {trials[0].id, trials[1].id}, fake_avf);
  EXPECT_NE(script.find("#SBATCH --array=0-1%1\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --ntasks=2\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --cpus-per-task=3\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --time=0:10:00\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --signal=B:USR2@120\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --requeue\n"), std::string::npos);
  EXPECT_NE(script.find("srun --mpi=pmix"), std::string::npos);
  write_file(root + "/job.sh", script);
  const auto r = run_command("SLURM_ARRAY_TASK_ID=1 bash " + shell_quote(root + "/job.sh"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(
      r.output,
      "<sweep>\n<trial>\n<" + odd + ">\n<" + trials[1].id +
          ">\n<--slurm>\n<-->\n<srun>\n<--mpi=pmix>\n<--kill-on-bad-exit=1>\n<--ntasks=2>\n<--cpus-per-task=3>\n");
  EXPECT_FALSE(fs::exists(root + "/pwned"));
}

TEST(SweepEarlyStopping, MedianRule) {
  EarlyStopRule rule{"median", 2, 3, 3};
  const std::vector<std::vector<Validation>> others{curve({0.2, 0.4, 0.5}), curve({0.3, 0.5, 0.6}),
                                                    curve({0.1, 0.3, 0.4})};
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.0}), others), "");  // within the grace period
  EXPECT_NE(early_stop_reason(rule, "max", curve({0.1, 0.2}), others).find("median rule at epoch 2"),
            std::string::npos);
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.1, 0.45}), others), "");  // above the median 0.4
  // Too few others at this epoch: no decision.
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.1, 0.2, 0.2, 0.2}), others), "");
  EXPECT_EQ(early_stop_reason({"none", 1, 1, 3}, "max", curve({0.0, 0.0}), others), "");
  // min mode: lower is better.
  EXPECT_NE(early_stop_reason(rule, "min", curve({0.9, 0.8}), others).find("median"), std::string::npos);
}

TEST(SweepEarlyStopping, AshaRungs) {
  EarlyStopRule rule{"asha", 1, 3, 3};  // rungs at epochs 1, 3, 9
  const std::vector<std::vector<Validation>> others{curve({0.5, 0.6, 0.7}), curve({0.4, 0.5, 0.6}),
                                                    curve({0.3, 0.4, 0.5})};
  // Epoch 1 rung: the top third of {0.5, 0.4, 0.3} is above the 2/3 quantile 0.433.
  EXPECT_NE(early_stop_reason(rule, "max", curve({0.42}), others).find("asha rung at epoch 1"), std::string::npos);
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.45}), others), "");
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.1, 0.1}), others), "");  // epoch 2 is no rung
  EXPECT_NE(early_stop_reason(rule, "max", curve({0.45, 0.5, 0.55}), others).find("epoch 3"), std::string::npos);
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.45, 0.5, 0.66}), others), "");
  EXPECT_EQ(early_stop_reason(rule, "max", curve({0.1}), {}), "");  // the first trial at a rung goes on
}

namespace {

// A sweep directory with scripted metrics and statuses, as trials would leave it.
struct ScriptedSweep {
  std::string root;
  SweepPlan plan;
  std::vector<Trial> trials;

  ScriptedSweep(const std::string& grid, const std::string& extra = "") {
    root = make_temp_dir("scripted");
    const auto spec = load_sweep_spec(write_spec(root, "[sweep]\nname = t\n" + extra + "[grid]\n" + grid));
    trials = plan_trials(spec);
    prepare_sweep(spec, trials);
    plan = load_plan(spec.out);
  }
  std::string dir(size_t i) const { return trial_dir(plan.dir, trials[i].id); }
  void metrics(size_t i, std::initializer_list<double> values) const {
    std::ofstream out(dir(i) + "/metrics.jsonl");
    int e = 0;
    for (double v : values) {
      ++e;
      out << nlohmann::json{{"kind", "train"}, {"epoch", e}, {"loss", 1.0}}.dump() << "\n";
      out << nlohmann::json{{"kind", "validation"},
                            {"epoch", e},
                            {"step", 10 * e},
                            {"metric", v},
                            {"ccc", {{"valence", v}, {"arousal", v}}}}
                 .dump()
          << "\n";
    }
  }
  void status(size_t i, TrialState state, const std::string& job = "", const std::string& reason = "") const {
    TrialStatus s;
    s.state = state, s.job_id = job, s.reason = reason, s.start = 1, s.end = 2;
    write_status(dir(i), s);
  }
};

}  // namespace

TEST(SweepReport, LeaderboardIsSortedByTheBestValidation) {
  ScriptedSweep s("train.lr = 0.1, 0.2, 0.3, 0.4\n");
  s.metrics(0, {0.1, 0.3, 0.2});  // best 0.3 at epoch 2
  s.metrics(1, {0.5, 0.4});       // best 0.5 at epoch 1
  s.metrics(3, {0.2});
  s.status(0, TrialState::done), s.status(1, TrialState::done), s.status(3, TrialState::stopped, "", "median rule");
  s.status(2, TrialState::failed, "", "exit code 1: diverged, badly");
  fs::create_directories(s.dir(1) + "/checkpoints/best");
  const auto rows = leaderboard(s.plan);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].trial.id, s.trials[1].id);
  EXPECT_DOUBLE_EQ(rows[0].best->value, 0.5);
  EXPECT_EQ(rows[0].best->epoch, 1);
  EXPECT_EQ(rows[1].trial.id, s.trials[0].id);
  EXPECT_EQ(rows[1].best->epoch, 2);
  EXPECT_EQ(rows[2].trial.id, s.trials[3].id);
  EXPECT_EQ(rows[3].trial.id, s.trials[2].id);  // no metric: last
  EXPECT_FALSE(rows[3].best);
  const auto files = write_report(s.plan);
  const std::string csv = avf::read_file(files.csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "rank,trial,state,mean,epoch_of_best,epochs,train.lr,reason,checkpoint");
  EXPECT_NE(csv.find("1," + s.trials[1].id + ",done,0.500000,1,2,0.2,,"), std::string::npos) << csv;
  // No checkpoint: an empty last column rather than a path that does not exist.
  EXPECT_NE(csv.find("4," + s.trials[2].id + ",failed,,,0,0.3,\"exit code 1: diverged, badly\",\n"), std::string::npos)
      << csv;
  const std::string md = avf::read_file(files.markdown);
  EXPECT_NE(md.find("Best trial: `" + s.trials[1].id + "`"), std::string::npos);
  EXPECT_NE(md.find(s.dir(1) + "/checkpoints/best"), std::string::npos);
  EXPECT_NE(md.find(s.dir(1) + "/config.ini"), std::string::npos);
  ASSERT_EQ(files.plots.size(), 1u);
  EXPECT_GT(fs::file_size(files.plots[0]), 1000u);
}

TEST(SweepResume, OnlyFailedCancelledPreemptedAndNeverStartedTrialsRun) {
  ScriptedSweep s("train.lr = 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8\n");
  s.status(0, TrialState::done);
  s.status(1, TrialState::stopped);
  s.status(2, TrialState::failed);
  s.status(3, TrialState::preempted, "9_3", "requeued");  // requeued: still in the queue
  s.status(4, TrialState::preempted, "9_4");              // left the queue: resumable
  s.status(5, TrialState::running, "9_5");                // its job is gone: cancelled
  s.status(6, TrialState::pending, "9_6");                // queued, waiting
  // trial 7: never started
  const std::set<std::string> queued{"9_3", "9_6"};
  std::vector<std::string> ids;
  for (const auto& t : trials_to_run(s.plan, queued, true)) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::string>{s.trials[2].id, s.trials[4].id, s.trials[5].id, s.trials[7].id}));
  EXPECT_EQ(effective_status(s.dir(5), queued, true).state, TrialState::cancelled);
  EXPECT_NE(effective_status(s.dir(5), queued, true).reason.find("job 9_5 ended without recording a result"),
            std::string::npos);
  EXPECT_EQ(effective_status(s.dir(6), queued, true).state, TrialState::pending);
  const auto table = status_table(s.plan, queued, true);
  EXPECT_NE(table.find("8 trials (1 cancelled, 1 done, 1 failed, 2 pending, 2 preempted, 1 stopped)"),
            std::string::npos)
      << table;
}

TEST(SweepResume, ATrialThatRanWithAnotherConfigurationIsNotReused) {
  ScriptedSweep s("train.lr = 0.1, 0.2\n", "[fixed]\ntrain.epochs = 3\n");
  s.status(0, TrialState::done);
  const std::string spec_path = s.root + "/spec.ini";
  write_file(spec_path, "[sweep]\nname = t\n[fixed]\ntrain.epochs = 4\n[grid]\ntrain.lr = 0.1, 0.2\n");
  const auto spec = load_sweep_spec(spec_path);
  try {
    prepare_sweep(spec, plan_trials(spec));
    FAIL() << "no error";
  } catch (const avf::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("trial " + s.trials[0].id + " (done) ran with another configuration"),
              std::string::npos)
        << e.what();
  }
  // Not yet run: its configuration simply follows the spec.
  s.status(0, TrialState::failed);
  EXPECT_NO_THROW(prepare_sweep(spec, plan_trials(spec)));
}

TEST(SweepSlurm, ArraysSplitAtMaxArraySizeHeldThenReleasedWithDependencies) {
  ScriptedSweep s("train.lr = 0.1, 0.2, 0.3, 0.4, 0.5\n", "");
  // Stand-ins for sbatch and scontrol record their arguments.
  const std::string bin = s.root + "/bin";
  fs::create_directories(bin);
  write_file(bin + "/sbatch",
             "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/sbatch.log\"\n"
             "n=$(wc -l < \"$(dirname \"$0\")/sbatch.log\")\necho $((100 + n))\n");
  write_file(bin + "/scontrol", "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/scontrol.log\"\n");
  fs::permissions(bin + "/sbatch", fs::perms::owner_all);
  fs::permissions(bin + "/scontrol", fs::perms::owner_all);
  const std::string old_path = std::getenv("PATH");
  setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  const auto subs = submit_slurm(s.plan, s.trials, 2);
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[0].job_id, "101");
  EXPECT_EQ(subs[2].trial_ids, std::vector<std::string>{s.trials[4].id});
  const std::string sbatch = avf::read_file(bin + "/sbatch.log");
  EXPECT_NE(sbatch.find("--hold"), std::string::npos);
  EXPECT_NE(sbatch.find("--dependency=afterany:101"), std::string::npos);
  EXPECT_NE(sbatch.find("--dependency=afterany:102"), std::string::npos);
  EXPECT_EQ(avf::read_file(bin + "/scontrol.log"), "release 101\nrelease 102\nrelease 103\n");
  EXPECT_NE(avf::read_file(subs[0].script).find("#SBATCH --array=0-1%2"), std::string::npos);
  EXPECT_NE(avf::read_file(subs[2].script).find("#SBATCH --array=0-0%2"), std::string::npos);
  EXPECT_EQ(read_status(s.dir(3)).job_id, "102_1");
  EXPECT_EQ(read_status(s.dir(4)).job_id, "103_0");
  const auto record = nlohmann::json::parse(avf::read_file(s.plan.dir + "/submissions.json"));
  EXPECT_EQ(record.size(), 3u);
}

TEST(SweepSpec, ThePapersFusionSweepPlans) {
  const auto spec = load_sweep_spec(std::string(AVF_SOURCE_DIR) + "/jobs/examples/fusion-paper.ini");
  EXPECT_EQ(plan_trials(spec).size(), 80u);  // 5 fusion heads x 16 random draws
  EXPECT_EQ(spec.early_stopping.rule, "asha");
  const auto c = trial_config(spec, plan_trials(spec).front(), "/tmp/t");
  EXPECT_EQ(c.train.stage, "fusion");
  EXPECT_EQ(c.train.threads, 4);
  EXPECT_EQ(c.train.out, "/tmp/t");
}

TEST(SweepProcess, RunProcessIsBoundedAndNeedsNoShell) {
  const auto r = run_process({"printf", "%s", "$(echo no)"}, 10);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "$(echo no)");
  EXPECT_EQ(run_process({"sleep", "30"}, 0.5).exit_code, 124);
  EXPECT_EQ(run_process({"/nonexistent/program"}, 10).exit_code, 127);
}

TEST(SweepCli, ActionsErrorsAndExitCodes) {
  const std::string avf = AVF_BIN;
  const std::string spec = std::string(AVF_SOURCE_DIR) + "/jobs/examples/fusion-paper.ini";
  auto r = run_command(avf + " sweep plan " + spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("sweep fusion-paper: 80 trials, metric mean (max)"), std::string::npos) << r.output;
  r = run_command(avf + " sweep run --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("usage: avf sweep run <spec> [options]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--backend"), std::string::npos) << r.output;
  r = run_command(avf + " repro --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--test-perturb"), std::string::npos) << r.output;
  r = run_command(avf + " sweep run --backend local");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("command line: spec is missing; usage: avf sweep run <spec> [options]"), std::string::npos)
      << r.output;
  r = run_command(avf + " sweep stats " + spec);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown action 'stats' (did you mean 'status'?)"), std::string::npos) << r.output;
  const auto dir = make_temp_dir("cli");
  r = run_command(avf + " sweep status " + dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(dir + ": no sweep was run there yet"), std::string::npos) << r.output;
  r = run_command(avf + " sweep run " + spec + " --backend slrum");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--backend must be local or slurm, got 'slrum'"), std::string::npos) << r.output;
  r = run_command(avf + " repro " + dir + "/missing.ini --seeds 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("config '" + dir + "/missing.ini' does not exist"), std::string::npos) << r.output;
}

TEST(SweepTrial, FailureReasonsComeFromTheTrainerElseTheLauncher) {
  ScriptedSweep s("train.lr = 0.1, 0.2\n");
  // Launchers standing in for srun: what they print is what the trial log gets.
  const std::string trainer_error = s.root + "/trainer_error.sh", launch_failed = s.root + "/launch_failed.sh";
  write_file(trainer_error,
             "#!/bin/sh\necho 'avf train: error: data.features: missing'\n"
             "echo 'srun: error: vm: task 0: Exited with exit code 1'\nexit 1\n");
  // srun has been seen to exit 0 after failing to launch its task.
  write_file(launch_failed,
             "#!/bin/sh\necho 'srun: error: task 0 launch failed: Unspecified error'\n"
             "echo 'srun: Job step aborted'\nexit 0\n");
  fs::permissions(trainer_error, fs::perms::owner_all);
  fs::permissions(launch_failed, fs::perms::owner_all);
  const std::string avf = AVF_BIN;
  auto r = run_command(avf + " sweep trial " + s.plan.dir + " " + s.trials[0].id + " -- " + trainer_error);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  auto st = read_status(s.dir(0));
  EXPECT_EQ(st.state, TrialState::failed);
  EXPECT_EQ(st.reason, "exit code 1: avf train: error: data.features: missing");
  // A launch that never reaches the trainer is tried three times in all, then the trial fails.
  r = run_command(avf + " sweep trial " + s.plan.dir + " " + s.trials[1].id + " -- " + launch_failed);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  st = read_status(s.dir(1));
  EXPECT_EQ(st.state, TrialState::failed);
  EXPECT_EQ(
      st.reason,
      "the launcher exited 0 but the trainer did not finish: srun: error: task 0 launch failed: Unspecified error");
  EXPECT_EQ(occurrences(s.dir(1) + "/train.log", "task 0 launch failed"), 3);
  // A finished trial is never run again.
  s.status(0, TrialState::done);
  r = run_command(avf + " sweep trial " + s.plan.dir + " " + s.trials[0].id + " -- " + trainer_error);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("already done; not running it again"), std::string::npos) << r.output;
  EXPECT_EQ(read_status(s.dir(0)).state, TrialState::done);
}

TEST(SweepTrial, ALaunchThatNeverReachedTheTrainerIsRetried) {
  ScriptedSweep s("train.lr = 0.1\n");
  // Fails like srun after a requeue (stale PMIx socket) on its first call; on the next it plays a
  // trainer that finishes: a log line and the "done" record in <train.out>/metrics.jsonl.
  const std::string launcher = s.root + "/flaky_srun.sh";
  write_file(launcher, "#!/bin/bash\ncalls=" + s.root +
                           "/calls\necho x >> $calls\n"
                           "if (( $(wc -l < $calls) == 1 )); then echo 'srun: error: task 0 launch failed: Unspecified "
                           "error'; exit 0; fi\n"
                           "while [[ $1 != --train.out ]]; do shift; done\n"
                           "echo '2026-11-26 10:00:00.000 done: best mean = 0.5 at step 3'\n"
                           "echo '{\"kind\":\"done\",\"step\":3}' >> $2/metrics.jsonl\n");
  fs::permissions(launcher, fs::perms::owner_all);
  const auto r =
      run_command(std::string(AVF_BIN) + " sweep trial " + s.plan.dir + " " + s.trials[0].id + " -- " + launcher);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("before the trainer started (srun: error: task 0 launch failed: Unspecified error); "
                          "launching again in 3 s"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(read_status(s.dir(0)).state, TrialState::done);
  EXPECT_EQ(occurrences(s.root + "/calls", "x"), 2);
  // A trainer that ran (it logged) and exited 0 without finishing is not launched again.
  ScriptedSweep t("train.lr = 0.1\n");
  const std::string quitter = t.root + "/quitter.sh";
  write_file(quitter, "#!/bin/bash\necho x >> " + t.root + "/calls\necho '2026-11-26 10:00:00.000 rank 0/1'\n");
  fs::permissions(quitter, fs::perms::owner_all);
  EXPECT_EQ(run_command(std::string(AVF_BIN) + " sweep trial " + t.plan.dir + " " + t.trials[0].id + " -- " + quitter)
                .exit_code,
            1);
  const auto st = read_status(t.dir(0));
  EXPECT_EQ(st.state, TrialState::failed);
  EXPECT_EQ(st.reason, "the launcher exited 0 but the trainer did not finish: 2026-11-26 10:00:00.000 rank 0/1");
  EXPECT_EQ(occurrences(t.root + "/calls", "x"), 1);
}

TEST(SweepSpec, SlurmTimeLimitsInSeconds) {
  EXPECT_EQ(time_limit_seconds("5"), 300);
  EXPECT_EQ(time_limit_seconds("1:30"), 90);
  EXPECT_EQ(time_limit_seconds("01:00:00"), 3600);
  EXPECT_EQ(time_limit_seconds("2-3"), 2 * 86400 + 3 * 3600);
  EXPECT_EQ(time_limit_seconds("1-00:30"), 86400 + 1800);
  EXPECT_EQ(time_limit_seconds("1-00:00:05"), 86405);
}

TEST(SweepTrial, LocallyTheTimeLimitSignalsTheTrainerSignalLeadSecondsBefore) {
  // time 1 minute, signal 58 s before it: the trainer gets USR2 after about 2 s.
  ScriptedSweep s("train.lr = 0.1\n", "[resources]\ntime = 1\nsignal-lead = 58\n");
  const std::string trainer = s.root + "/checkpointing_trainer.sh";
  write_file(trainer, "#!/bin/bash\ntrap 'echo checkpointed; exit 3' USR2\nsleep 30 & wait\nexit 9\n");
  fs::permissions(trainer, fs::perms::owner_all);
  const auto r =
      run_command(std::string(AVF_BIN) + " sweep trial " + s.plan.dir + " " + s.trials[0].id + " -- " + trainer);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  const auto st = read_status(s.dir(0));
  EXPECT_EQ(st.state, TrialState::preempted);
  EXPECT_EQ(st.reason, "stopped by SIGUSR2 before the time limit: checkpointed last");
  EXPECT_GE(st.end - st.start, 1.5);
  EXPECT_LT(st.end - st.start, 10);
}
