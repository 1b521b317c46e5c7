#include "driver/driver.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "driver/onnx_opt.h"
#include "driver/progress.h"
#include "driver/run_report.h"
#include "onnx_opt/onnx_opt.h"
#include "ir/strings.h"
#include "ir/text/text.h"
#include "passes/core/pipeline.h"

namespace onnx_opt {

namespace {

// Diagnostics are one line whatever the model's names, the paths or the options hold.
std::string OneLine(const absl::Status& status) {
  return EscapeString(ToStd(status.message()), EscapeStyle::kControl);
}

constexpr int64_t kDefaultExternalDataThreshold = 1024;
// IR dumps print tensors with more elements as a hash unless --elide-tensors-larger-than says
// otherwise (a dump of a real model would be its weights in decimal).
constexpr int64_t kDumpElideDefault = 16;

constexpr char kUsage[] = R"(USAGE: onnx-opt [options] <input>

Runs a pipeline of passes over an ONNX model. <input> is a binary .onnx file or ONNX text
(.onnxtxt; other names are sniffed); '-' reads standard input.

OPTIONS:
  -o <file>                      Output file; binary ONNX unless the name ends in .onnxtxt
                                 (or .onnxtext/.txt). Without -o, text goes to standard output
                                 when that is a pipe or file, never to a terminal; '-' writes
                                 binary ONNX to standard output. A device, FIFO or
                                 /dev/stdout is written in place, a symlink's target replaced
  -p <pipeline>                  Passes to run, e.g. -p 'dce,dedup-initializers{min-bytes=64}'
  --emit=onnx|text               Output format (default: by output extension; text on stdout)
  --summary[=true|false]         Print a before/after table (file size, weights, op counts) to
                                 standard error (default: true when writing -o to a file and
                                 standard error is a terminal)
  --progress=auto|always|never   Show a progress line on standard error for a pass running
                                 longer than 2 s (default auto: when standard error is a terminal)
  --external-data[=<bytes>]      Binary output: store tensors of at least <bytes> bytes
                                 (default 1024) in <output>.data
  --elide-tensors-larger-than=<n>
                                 Text output and IR dumps: print tensors with more than <n>
                                 elements as a hash (IR dumps default to 16; text output is
                                 complete unless this is given)
  --verify-each[=true|false]     Verify the model after every pass (default true)
  --print-ir-before=<pass>       Print the IR before each run of <pass> (repeatable, or a,b)
  --print-ir-after=<pass>        Print the IR after each run of <pass> (repeatable, or a,b)
  --print-ir-before-all          Print the IR before every pass
  --print-ir-after-all           Print the IR after every pass
  --time-passes                  Report the wall time of every pass
  --stats                        Report the statistics of every pass
  --list-passes                  List the passes and their options
  --dump-pass-docs               Write the Markdown reference of all passes
  --dump-pass-pipeline           Print the parsed pipeline in canonical form (to standard
                                 output when there is no input file, else to standard error)
  --verify-input[=true|false]    Verify the model after loading it (default true; false lets
                                 topo-sort repair unsorted input)
  --version                      Print the version of onnx-opt
  --help                         Show this text
IR dumps and reports go to standard error.
)";

struct Flags {
  std::string input;
  std::string output;
  std::optional<std::string> pipeline;
  std::string emit;
  int64_t external_data_threshold = -1;
  int64_t elide_tensors_larger_than = -1;
  bool verify_each = true;
  bool verify_input = true;
  bool dump_pass_pipeline = false;
  bool print_ir_before_all = false;
  bool print_ir_after_all = false;
  std::vector<std::string> print_ir_before;
  std::vector<std::string> print_ir_after;
  bool time_passes = false;
  bool stats = false;
  bool list_passes = false;
  bool dump_pass_docs = false;
  bool help = false;
  bool version = false;
  std::optional<bool> summary;
  std::string progress = "auto";
  double progress_delay = 2.0;
};

absl::Status ParseBool(std::string_view flag, std::string_view text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(flag), " expects true or false, got '", ToAbsl(text), "'"));
  }
  return absl::OkStatus();
}

absl::Status ParseCount(std::string_view flag, std::string_view text, int64_t* out) {
  if (!absl::SimpleAtoi(ToAbsl(text), out) || *out < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(flag), " expects a non-negative integer, got '", ToAbsl(text), "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  bool have_input = false;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg == "-" || arg.empty() || arg[0] != '-') {
      if (have_input) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than one input file ('", flags.input, "' and '", arg, "')"));
      }
      flags.input = arg;
      have_input = true;
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    // Flags that take a value from the next argument when not given as --flag=value.
    auto take_value = [&]() -> absl::StatusOr<std::string> {
      if (value) return *value;
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
      return args[++i];
    };
    auto no_value = [&]() -> absl::Status {
      if (value) return absl::InvalidArgumentError(absl::StrCat(name, " takes no value"));
      return absl::OkStatus();
    };
    absl::Status status = absl::OkStatus();
    if (name == "-o") {
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      flags.output = *v;
    } else if (name == "-p" || name == "--pipeline" || name == "--pass-pipeline") {
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      flags.pipeline = *v;
    } else if (name == "--emit") {
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      if (*v != "onnx" && *v != "text") {
        return absl::InvalidArgumentError(
            absl::StrCat("--emit expects onnx or text, got '", *v, "'"));
      }
      flags.emit = *v;
    } else if (name == "--external-data") {
      flags.external_data_threshold = kDefaultExternalDataThreshold;
      if (value) status = ParseCount(name, *value, &flags.external_data_threshold);
    } else if (name == "--elide-tensors-larger-than") {
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      status = ParseCount(name, *v, &flags.elide_tensors_larger_than);
    } else if (name == "--verify-each") {
      if (value) status = ParseBool(name, *value, &flags.verify_each);
    } else if (name == "--verify-input") {
      if (value) status = ParseBool(name, *value, &flags.verify_input);
    } else if (name == "--dump-pass-pipeline") {
      status = no_value();
      flags.dump_pass_pipeline = true;
    } else if (name == "--print-ir-before" || name == "--print-ir-after") {
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      auto& list = name == "--print-ir-before" ? flags.print_ir_before : flags.print_ir_after;
      for (absl::string_view pass : absl::StrSplit(*v, ',', absl::SkipEmpty())) {
        list.emplace_back(pass);
      }
    } else if (name == "--print-ir-before-all") {
      status = no_value();
      flags.print_ir_before_all = true;
    } else if (name == "--print-ir-after-all") {
      status = no_value();
      flags.print_ir_after_all = true;
    } else if (name == "--time-passes") {
      status = no_value();
      flags.time_passes = true;
    } else if (name == "--stats") {
      status = no_value();
      flags.stats = true;
    } else if (name == "--list-passes") {
      status = no_value();
      flags.list_passes = true;
    } else if (name == "--dump-pass-docs") {
      status = no_value();
      flags.dump_pass_docs = true;
    } else if (name == "--help" || name == "-h") {
      flags.help = true;
    } else if (name == "--version") {
      status = no_value();
      flags.version = true;
    } else if (name == "--summary") {
      bool on = true;
      if (value) status = ParseBool(name, *value, &on);
      flags.summary = on;
    } else if (name == "--progress") {
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      if (*v != "auto" && *v != "always" && *v != "never") {
        return absl::InvalidArgumentError(
            absl::StrCat("--progress expects auto, always or never, got '", *v, "'"));
      }
      flags.progress = *v;
    } else if (name == "--progress-delay") {  // for tests: seconds before the line appears
      absl::StatusOr<std::string> v = take_value();
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtod(*v, &flags.progress_delay) || flags.progress_delay < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--progress-delay expects seconds, got '", *v, "'"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", name, "' (see onnx-opt --help)"));
    }
    if (!status.ok()) return status;
  }
  return flags;
}

void ListPasses(const PassRegistry& registry, std::ostream& out) {
  out << "Available passes:\n";
  for (const PassRegistry::Entry& entry : registry.entries()) {
    out << absl::StrFormat("  %-28s - %s\n", entry.name, entry.summary);
    std::unique_ptr<Pass> pass = entry.factory();
    for (const PassOptionBase* option : pass->options()) {
      out << absl::StrFormat("      %s=<%s> (default: %s)\n          %s\n", option->name(),
                             option->TypeName(), QuotePipelineValue(option->DefaultText()),
                             option->help());
    }
  }
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\";
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string PassDocsMarkdown() {
  PassRegistry registry = MakeDefaultPassRegistry();
  std::ostringstream md;
  md << "# onnx-opt passes\n\n"
     << "<!-- Generated by `onnx-opt --dump-pass-docs > docs/passes.md`; do not edit by hand. "
        "A ctest test fails when this file is stale. -->\n\n"
     << "Run passes with `onnx-opt model.onnx -p 'pass-a,pass-b{option=value}' -o out.onnx`. "
        "Pipeline syntax: see docs/design.md.\n\n";
  for (const PassRegistry::Entry& entry : registry.entries()) {
    md << "- [`" << entry.name << "`](#" << entry.name << "): " << entry.summary << "\n";
  }
  for (const PassRegistry::Entry& entry : registry.entries()) {
    std::unique_ptr<Pass> pass = entry.factory();
    md << "\n## " << entry.name << "\n\n" << entry.summary << ".\n";
    if (!pass->description().empty()) md << "\n" << pass->description() << "\n";
    if (!pass->options().empty()) {
      md << "\n| Option | Type | Default | Description |\n|---|---|---|---|\n";
      for (const PassOptionBase* option : pass->options()) {
        md << "| `" << option->name() << "` | " << MarkdownCell(option->TypeName()) << " | `"
           << QuotePipelineValue(option->DefaultText()) << "` | " << MarkdownCell(option->help())
           << " |\n";
      }
    }
    if (!pass->statistics().empty()) {
      md << "\n| Statistic | Description |\n|---|---|\n";
      for (const PassStatistic* stat : pass->statistics()) {
        md << "| `" << stat->name() << "` | " << MarkdownCell(stat->help()) << " |\n";
      }
    }
  }
  return md.str();
}

int RunOnnxOpt(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Flags> parsed = ParseFlags(args);
  if (!parsed.ok()) {
    err << "onnx-opt: " << OneLine(parsed.status()) << "\n";
    return 1;
  }
  const Flags& flags = *parsed;
  if (flags.help) {
    out << kUsage;
    return 0;
  }
  if (flags.version) {
    out << "onnx-opt version " << Version() << "\n";
    return 0;
  }
  PassRegistry registry = MakeDefaultPassRegistry();
  if (flags.list_passes) {
    ListPasses(registry, out);
    return 0;
  }
  if (flags.dump_pass_docs) {
    out << PassDocsMarkdown();
    return 0;
  }
  if (flags.input.empty() && !flags.dump_pass_pipeline) {
    err << "onnx-opt: no input file (see onnx-opt --help)\n";
    return 1;
  }
  const std::string& input = flags.input;
  auto fail = [&](const absl::Status& status) {
    const std::string message = OneLine(status);
    const std::string display =
        input == "-" ? "<stdin>" : EscapeString(input, EscapeStyle::kControl);
    // Load errors usually start with the file name already.
    if (message.compare(0, display.size(), display) == 0) {
      err << "onnx-opt: " << message << "\n";
    } else {
      err << "onnx-opt: " << display << ": " << message << "\n";
    }
    return 1;
  };

  for (const auto* names : {&flags.print_ir_before, &flags.print_ir_after}) {
    for (const std::string& name : *names) {
      if (!registry.Contains(name)) {
        return fail(absl::InvalidArgumentError(
            absl::StrCat("--print-ir-", names == &flags.print_ir_before ? "before" : "after",
                         ": unknown pass '", name, "'")));
      }
    }
  }
  ModelFormat emit = ModelFormat::kAuto;
  if (flags.emit == "onnx") emit = ModelFormat::kOnnx;
  if (flags.emit == "text") emit = ModelFormat::kText;
  // No -o: text on `out`; -o - : binary on standard output unless --emit=text.
  bool to_stdout = flags.output.empty() || (flags.output == "-" && emit == ModelFormat::kText);
  if (flags.output.empty() && emit == ModelFormat::kOnnx) {
    return fail(absl::InvalidArgumentError(
        "--emit=onnx needs an output file (-o FILE, or -o - for standard output)"));
  }
  if (flags.output == "-" && !to_stdout && ::isatty(STDOUT_FILENO)) {
    return fail(absl::InvalidArgumentError(
        "-o -: refusing to write binary ONNX to a terminal (redirect it, or use --emit=text)"));
  }
  // Megabytes of tensor text scrolling past help no one: a terminal gets the model only by -o.
  if (flags.output.empty() && !input.empty() && &out == &std::cout && isatty(STDOUT_FILENO)) {
    return fail(absl::InvalidArgumentError(
        "refusing to print the model on a terminal; give -o FILE (.onnx binary, .onnxtxt text) "
        "or pipe the output"));
  }
  if (!to_stdout && emit != ModelFormat::kAuto && FormatFromPath(flags.output) != ModelFormat::kAuto &&
      FormatFromPath(flags.output) != emit) {
    err << "onnx-opt: warning: writing " << (emit == ModelFormat::kText ? "ONNX text" : "binary ONNX")
        << " to '" << EscapeString(flags.output, EscapeStyle::kControl) << "', whose name says "
        << (emit == ModelFormat::kText ? "binary (.onnx)" : "text")
        << "; it will not load by its extension\n";
  }

  PassManagerOptions pm_options;
  pm_options.verify_each = flags.verify_each;
  pm_options.print_ir_before_all = flags.print_ir_before_all;
  pm_options.print_ir_after_all = flags.print_ir_after_all;
  pm_options.print_ir_before = flags.print_ir_before;
  pm_options.print_ir_after = flags.print_ir_after;
  pm_options.time_passes = flags.time_passes;
  pm_options.print_statistics = flags.stats;
  pm_options.dump_stream = &err;
  std::vector<std::string> warnings;
  CollectQuantizationWarnings(pm_options, &warnings);
  std::unique_ptr<PassProgress> progress;  // outlives the pass manager, whose hooks call it
  const bool stderr_is_terminal = &err == &std::cerr && isatty(STDERR_FILENO);
  if (flags.progress == "always" || (flags.progress == "auto" && stderr_is_terminal)) {
    progress = std::make_unique<PassProgress>(err, flags.progress_delay);
    progress->Install(pm_options);
  }
  absl::StatusOr<std::unique_ptr<PassManager>> pm = BuildPassManager(
      flags.pipeline.value_or(""), registry, std::move(pm_options),
      flags.elide_tensors_larger_than >= 0 ? flags.elide_tensors_larger_than : kDumpElideDefault);
  if (!pm.ok()) {
    err << "onnx-opt: " << OneLine(pm.status()) << "\n";
    return 1;
  }

  if (flags.dump_pass_pipeline) {
    (input.empty() ? out : err) << (*pm)->PipelineText() << "\n";
    if (input.empty()) return 0;
  }

  LoadModelFileOptions load_options;
  load_options.verify = flags.verify_input;
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModelFile(input, load_options);
  if (!model.ok()) return fail(model.status());
  const bool summary = flags.summary.value_or(!to_stdout && stderr_is_terminal);
  ModelSummary before;
  if (summary) before = SummarizeModel(**model);
  if (absl::Status s = (*pm)->Run(**model); !s.ok()) return fail(s);
  for (const std::string& warning : warnings) {
    err << "onnx-opt: warning: " << EscapeString(warning, EscapeStyle::kControl) << "\n";
  }

  if (to_stdout) {
    PrintOptions print_options;
    print_options.elide_tensors_larger_than = flags.elide_tensors_larger_than;
    out << PrintModel(**model, print_options);
    out.flush();
    return 0;
  }
  out.flush();  // -o - writes to the standard output descriptor directly
  SaveModelFileOptions save_options;
  save_options.format = emit == ModelFormat::kAuto && flags.output == "-" ? ModelFormat::kOnnx : emit;
  save_options.external_data_threshold = flags.external_data_threshold;
  save_options.elide_tensors_larger_than = flags.elide_tensors_larger_than;
  if (absl::Status s = SaveModelFile(**model, flags.output, save_options); !s.ok()) {
    err << "onnx-opt: " << OneLine(s) << "\n";
    return 1;
  }
  if (summary) {
    // The files' sizes, external data included; -1 (no row) for standard input.
    auto file_bytes = [](const std::string& path) -> int64_t {
      std::error_code ec;
      if (path == "-" || !std::filesystem::is_regular_file(path, ec)) return -1;
      int64_t bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
      int64_t data = static_cast<int64_t>(std::filesystem::file_size(path + ".data", ec));
      return ec ? bytes : bytes + data;
    };
    err << SummaryTable(before, SummarizeModel(**model), file_bytes(input),
                        file_bytes(flags.output));
  }
  return 0;
}

}  // namespace onnx_opt
