// onnx-opt-calibrate-helper: the numeric half of onnx-opt-calibrate (calibrate/calibrate.js).
//
//   onnx-opt-calibrate-helper MODEL --exposed OUT.onnx -o FILE.calib [--what hessians,ranges]
//                             [--bins N] [--max-hessian-bytes N]
//
// Writes OUT.onnx: MODEL with the activation of every weighted Conv/ConvTranspose/MatMul/Gemm
// (expose-activations{min-elements=0}) and, with ranges, every other float node output of the
// main graph as extra graph outputs. Prints one JSON line on stdout: the model's inputs, its
// original outputs, the exposed values and the passes: the weights are measured in groups whose
// Hessians take at most --max-hessian-bytes (default 1 GiB; float32, held-out half included), one
// pass over the samples per group, so memory stays bounded for models like ISNet (2.8 GB of
// Hessians); "passes" lists per pass the activations it needs (the first pass also takes the
// ranges). Then reads frames on stdin (all integers little-endian):
//   u32 1, u32 name length, name, u32 ONNX element type, u32 rank, i64 dims[rank], u64 bytes,
//          data                       one tensor of the current sample
//   u32 2                             end of sample
//   u32 4                             end of pass (its weights' Hessians go to a spill file)
//   u32 3, u64 length, JSON           end: {"samples": {...}, "sensitivity": {...} or null}
// and accumulates per weight its GPTQ Hessians (HessianAccumulator; odd-numbered samples form
// the held-out half) and per float tensor its range and histogram (RangeStats), holding only
// the statistics, never the samples. At the end writes FILE.calib (calib_file.h) and prints a
// JSON summary line. Errors: one line on stderr, exit 1.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "calibrate/helper/range_stats.h"
#include "driver/onnx_opt.h"
#include "ir/strings.h"
#include "passes/core/registry.h"
#include "passes/core/utils.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/hessian_accumulator.h"
#include "quant/float16.h"

namespace onnx_opt::calibrate {
namespace {

constexpr char kProducer[] = "onnx-opt-calibrate 0.1.0";

bool IsFloat(DataType t) {
  return t == DataType::kFloat || t == DataType::kFloat16 || t == DataType::kBFloat16;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", c < 16 ? "0" : "", absl::Hex(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::vector<std::string> ShapeStrings(const ValueType& type) {
  std::vector<std::string> out;
  if (!type.shape) return out;
  for (const Dim& d : *type.shape) {
    out.push_back(d.is_fixed() ? absl::StrCat(*d.value) : d.param.empty() ? "?" : d.param);
  }
  return out;
}

// One weight: its record in the file and, when its uses are modelled, its accumulator.
struct WeightState {
  CalibWeight record;
  std::vector<WeightUse> uses;
  std::optional<HessianAccumulator> accumulator;
  int pass = 0;  // the pass over the samples that measures it
};

// Assigns each measured weight a pass: consecutive weights whose Hessians (float32 lower
// triangles, total and held-out) fit in `budget` bytes share one. Returns the number of passes.
int AssignPasses(std::vector<WeightState>& weights, int64_t budget) {
  int pass = 0;
  int64_t used = 0;
  for (WeightState& w : weights) {
    if (!w.accumulator) continue;
    const int64_t k = w.accumulator->reduce();
    const int64_t bytes = 2 * w.accumulator->groups() * (k * (k + 1) / 2) * 4;
    if (used > 0 && used + bytes > budget) {
      ++pass;
      used = 0;
    }
    used += bytes;
    w.pass = pass;
  }
  return pass + 1;
}

struct Options {
  std::string model, exposed, output;
  bool hessians = true, ranges = true;
  int64_t bins = 2048;
  int64_t max_hessian_bytes = int64_t{1024} << 20;
};

absl::StatusOr<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
      return std::string(argv[++i]);
    };
    if (a == "--exposed" || a == "-o" || a == "--what" || a == "--bins" ||
        a == "--max-hessian-bytes") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (a == "--exposed") o.exposed = *v;
      if (a == "-o") o.output = *v;
      if (a == "--bins") o.bins = std::atoll(v->c_str());
      if (a == "--max-hessian-bytes") o.max_hessian_bytes = std::atoll(v->c_str());
      if (a == "--what") {
        o.hessians = o.ranges = false;
        for (const std::string& w : std::vector<std::string>(absl::StrSplit(*v, ','))) {
          if (w == "hessians")
            o.hessians = true;
          else if (w == "ranges")
            o.ranges = true;
          else if (w != "sensitivity") {
            return absl::InvalidArgumentError(absl::StrCat("--what: unknown statistic '", w, "'"));
          }
        }
      }
    } else if (o.model.empty() && !a.starts_with("-")) {
      o.model = a;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "'"));
    }
  }
  if (o.model.empty() || o.exposed.empty() || o.output.empty()) {
    return absl::InvalidArgumentError("usage: MODEL --exposed OUT.onnx -o FILE.calib");
  }
  if (o.bins < 2 || o.bins > (1 << 20)) return absl::InvalidArgumentError("--bins: 2..1048576");
  if (o.max_hessian_bytes < 1) return absl::InvalidArgumentError("--max-hessian-bytes: at least 1");
  return o;
}

// The weights of `model` read by Conv/ConvTranspose/MatMul/Gemm, with their uses (every graph;
// only the main graph's get data).
std::vector<WeightState> FindWeights(Model& model, bool hessians) {
  std::vector<WeightState> weights;
  std::map<const Value*, size_t> index;
  model.WalkGraphs([&](Graph& graph) {
    const bool main = &graph == model.graph.get();
    for (const auto& node : graph.nodes()) {
      if (!node->domain.empty() || !(node->Is("Conv") || node->Is("ConvTranspose") ||
                                     node->Is("MatMul") || node->Is("Gemm"))) {
        continue;
      }
      for (int i = 0; i < static_cast<int>(node->inputs().size()) && i < 2; ++i) {
        const Value* v = node->input(i);
        TensorPtr t = GetConstantTensor(v);
        if (t == nullptr || !IsFloat(t->type())) continue;
        if (i == 0 && !node->Is("MatMul") && !node->Is("Gemm")) continue;
        auto [it, fresh] = index.emplace(v, weights.size());
        if (fresh) {
          WeightState w;
          // Keyed by the graph owning the weight (as quantize-weights keys it), which may be
          // an outer graph of the node's.
          w.record = {GraphDebugName(*v->graph()),
                      v->name(),
                      std::string(DataTypeName(t->type())),
                      t->dims(),
                      TensorSha256(*t),
                      {},
                      std::nullopt,
                      ""};
          weights.push_back(std::move(w));
        }
        if (!main) {
          weights[it->second].record.no_data =
              "read inside a subgraph (only main-graph activations are exposed)";
        }
        weights[it->second].uses.push_back({node.get(), i});
      }
    }
  });
  for (WeightState& w : weights) {
    w.record.uses = DescribeUses(w.uses);
    if (!hessians) {
      w.record.no_data = "not measured (--what without hessians)";
    } else if (w.record.no_data.empty()) {
      w.accumulator = HessianAccumulator::Create(w.record.shape, w.uses, &w.record.no_data);
    }
  }
  return weights;
}

// Adds every float node output of the main graph as a graph output (ranges).
void ExposeAllFloatValues(Model& model) {
  Graph& graph = *model.graph;
  for (const auto& node : graph.nodes()) {
    for (Value* v : node->outputs()) {
      if (v == nullptr || v->is_graph_output() || v->name().empty()) continue;
      // Untyped values too: ONNX Runtime infers their type; the tool keeps the float ones.
      if (!v->type.is_tensor() || IsFloat(v->type.elem_type)) graph.AddOutput(v);
    }
  }
}

class FrameReader {
 public:
  explicit FrameReader(FILE* in) : in_(in) {}
  bool Read(void* to, size_t n) { return std::fread(to, 1, n, in_) == n; }
  template <typename T>
  bool Int(T& v) {
    unsigned char b[sizeof(T)];
    if (!Read(b, sizeof(T))) return false;
    std::make_unsigned_t<T> u = 0;
    for (size_t i = sizeof(T); i-- > 0;) u = (u << 8) | b[i];
    v = static_cast<T>(u);
    return true;
  }

 private:
  FILE* in_;
};

// Values as float32 (NpyArray), from float32/float16/bfloat16 bytes.
absl::StatusOr<NpyArray> ToFloats(uint32_t elem_type, std::vector<int64_t> dims,
                                  const std::vector<char>& bytes, const std::string& name) {
  NpyArray a;
  a.shape = std::move(dims);
  int64_t count = 1;
  for (int64_t d : a.shape) count *= d;
  const auto type = static_cast<DataType>(elem_type);
  const size_t width = type == DataType::kFloat ? 4 : 2;
  if (!IsFloat(type) || bytes.size() != static_cast<size_t>(count) * width) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': ", bytes.size(),
                                                   " bytes do not hold ", FormatDims(a.shape),
                                                   " of element type ", elem_type));
  }
  a.values.resize(count);
  if (type == DataType::kFloat) {
    std::memcpy(a.values.data(), bytes.data(), bytes.size());
  } else {
    for (int64_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      a.values[i] = type == DataType::kFloat16 ? quant::HalfToFloat(h) : quant::BFloat16ToFloat(h);
    }
  }
  return a;
}

absl::Status Run(const Options& o) {
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModelFile(o.model);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::unique_ptr<Model>> exposed = LoadModelFile(o.model);
  if (!exposed.ok()) return exposed.status();
  std::vector<std::string> original_outputs;
  for (const Value* v : (*exposed)->graph->outputs()) original_outputs.push_back(v->name());
  const PassRegistry registry = MakeDefaultPassRegistry();
  absl::StatusOr<std::unique_ptr<PassManager>> pm =
      BuildPassManager("expose-activations{min-elements=0}", registry);
  if (!pm.ok()) return pm.status();
  if (absl::Status s = (*pm)->Run(**exposed); !s.ok()) return s;
  if (o.ranges) ExposeAllFloatValues(**exposed);
  if (absl::Status s = SaveModelFile(**exposed, o.exposed); !s.ok()) return s;

  std::vector<WeightState> weights = FindWeights(**model, o.hessians);
  const int passes = AssignPasses(weights, o.max_hessian_bytes);
  // Activation name -> (weight, use) pairs fed by it.
  std::map<std::string, std::vector<std::pair<size_t, size_t>>> consumers;
  for (size_t w = 0; w < weights.size(); ++w) {
    if (!weights[w].accumulator) continue;
    for (size_t u = 0; u < weights[w].uses.size(); ++u) {
      const Value* a = weights[w].uses[u].node->input(0);
      if (a != nullptr) consumers[a->name()].push_back({w, u});
    }
  }
  CalibContents contents;
  contents.producer = kProducer;
  contents.model = o.model;
  if (o.hessians) contents.statistics.push_back("hessians");
  if (o.ranges) contents.statistics.push_back("ranges");
  std::string line = "{\"inputs\":[";
  for (const Value* v : (*model)->graph->inputs()) {
    if (v->is_initializer()) continue;
    CalibValueInfo info{v->name(), std::string(DataTypeName(v->type.elem_type)),
                        ShapeStrings(v->type)};
    absl::StrAppend(&line, contents.inputs.empty() ? "" : ",", "{\"name\":", JsonString(info.name),
                    ",\"type\":", JsonString(info.type), ",\"shape\":[",
                    absl::StrJoin(info.shape, ",",
                                  [](std::string* out, const std::string& d) {
                                    absl::StrAppend(out, JsonString(d));
                                  }),
                    "]}");
    contents.inputs.push_back(std::move(info));
  }
  auto names = [](const std::vector<std::string>& list) {
    return absl::StrJoin(list, ",", [](std::string* out, const std::string& n) {
      absl::StrAppend(out, JsonString(n));
    });
  };
  std::vector<std::string> extra;
  for (const Value* v : (*exposed)->graph->outputs()) {
    if (std::find(original_outputs.begin(), original_outputs.end(), v->name()) ==
        original_outputs.end()) {
      extra.push_back(v->name());
    }
  }
  int64_t with_accumulator = 0;
  for (const WeightState& w : weights) with_accumulator += w.accumulator.has_value();
  std::vector<std::vector<std::string>> pass_inputs(passes);
  for (const auto& [name, users] : consumers) {
    std::set<int> of;
    for (const auto& [w, u] : users) of.insert(weights[w].pass);
    for (int p : of) pass_inputs[p].push_back(name);
  }
  absl::StrAppend(&line, "],\"outputs\":[", names(original_outputs), "],\"exposed\":[",
                  names(extra), "],\"weights\":", weights.size(),
                  ",\"weights_measured\":", with_accumulator, ",\"passes\":[",
                  absl::StrJoin(pass_inputs, ",",
                                [&](std::string* out, const std::vector<std::string>& p) {
                                  absl::StrAppend(out, "[", names(p), "]");
                                }),
                  "]}\n");
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);

  std::map<std::string, RangeStats> ranges;
  FrameReader in(stdin);
  int64_t sample = 0, samples = -1;  // samples: of the first pass
  int pass = 0;
  std::string finish_json;
  std::unique_ptr<CalibSpill> spill;
  // The end of a pass: its weights' Hessians are final; with more passes they leave memory.
  auto finish_pass = [&](int p) -> absl::Status {
    if (passes > 1 && spill == nullptr) {
      absl::StatusOr<std::unique_ptr<CalibSpill>> created =
          CalibSpill::Create(absl::StrCat(o.output, ".spill"));
      if (!created.ok()) return created.status();
      spill = *std::move(created);
    }
    for (WeightState& w : weights) {
      if (!w.accumulator || w.pass != p) continue;
      PackedLayerHessians h = std::move(*w.accumulator).FinishPacked();
      w.accumulator.reset();
      if (h.samples == 0) {
        w.record.no_data = "its activation never arrived (not exposed by the runtime)";
        continue;
      }
      w.record.hessians = std::move(h);
      if (spill != nullptr) {
        if (absl::Status s = spill->Spill(w.record); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  };
  while (true) {
    uint32_t kind = 0;
    if (!in.Int(kind)) return absl::DataLossError("standard input ended before the end frame");
    if (kind == 2) {
      ++sample;
      continue;
    }
    if (kind == 4) {
      if (pass >= passes) return absl::DataLossError("more passes than announced");
      if (samples >= 0 && sample != samples) {
        return absl::DataLossError(
            absl::StrCat("pass ", pass + 1, " had ", sample, " samples, the first ", samples));
      }
      if (samples < 0) samples = sample;
      if (absl::Status s = finish_pass(pass++); !s.ok()) return s;
      sample = 0;
      continue;
    }
    if (kind == 3) {
      uint64_t length = 0;
      if (!in.Int(length)) return absl::DataLossError("truncated end frame");
      finish_json.resize(length);
      if (!in.Read(finish_json.data(), length)) return absl::DataLossError("truncated end frame");
      break;
    }
    if (kind != 1) return absl::DataLossError(absl::StrCat("unknown frame kind ", kind));
    uint32_t name_length = 0, elem_type = 0, rank = 0;
    uint64_t bytes = 0;
    if (!in.Int(name_length)) return absl::DataLossError("truncated tensor frame");
    std::string name(name_length, '\0');
    if (!in.Read(name.data(), name_length) || !in.Int(elem_type) || !in.Int(rank)) {
      return absl::DataLossError("truncated tensor frame");
    }
    std::vector<int64_t> dims(rank);
    for (int64_t& d : dims) {
      if (!in.Int(d)) return absl::DataLossError("truncated tensor frame");
    }
    if (!in.Int(bytes)) return absl::DataLossError("truncated tensor frame");
    std::vector<char> data(bytes);
    if (!in.Read(data.data(), bytes)) return absl::DataLossError("truncated tensor data");
    auto users = consumers.find(name);
    const bool want_range = o.ranges && pass == 0;
    if (users == consumers.end() && !want_range) continue;
    if (!IsFloat(static_cast<DataType>(elem_type))) continue;  // ranges: float tensors only
    absl::StatusOr<NpyArray> x = ToFloats(elem_type, dims, data, name);
    if (!x.ok()) return x.status();
    if (users != consumers.end()) {
      for (const auto& [w, u] : users->second) {
        if (weights[w].pass != pass) continue;
        if (absl::Status s = weights[w].accumulator->Add(u, *x, sample % 2 == 1,
                                                         absl::StrCat("sample ", sample));
            !s.ok()) {
          return s;
        }
      }
    }
    if (want_range) {
      auto it = ranges.find(name);
      if (it == ranges.end()) {
        it = ranges
                 .emplace(
                     name,
                     RangeStats(name, std::string(DataTypeName(static_cast<DataType>(elem_type))),
                                o.bins))
                 .first;
      }
      it->second.Add(x->values, x->shape);
    }
  }
  // A tool that sends no end-of-pass frames measures everything in one pass.
  if (pass == 0 && passes > 1) return absl::DataLossError("no end-of-pass frames for the passes");
  if (pass == 0) {
    samples = sample;
    if (absl::Status s = finish_pass(0); !s.ok()) return s;
  }
  sample = samples;
  contents.samples = samples;
  // The end frame: {"samples": {...}, "sensitivity": {...} | null}; split without a JSON parser
  // here: calibrate.js sends the two members as separate keys we pass on verbatim.
  const size_t split = finish_json.find("\n");
  contents.samples_json = finish_json.substr(0, split);
  if (split != std::string::npos) contents.sensitivity_json = finish_json.substr(split + 1);
  if (!contents.sensitivity_json.empty()) contents.statistics.push_back("sensitivity");
  int64_t measured = 0;
  std::string missing;
  for (WeightState& w : weights) {
    if (w.accumulator) return absl::DataLossError("fewer passes than announced");
    if (w.record.hessians) ++measured;
    if (!w.record.hessians) {
      absl::StrAppend(&missing, missing.empty() ? "" : ",",
                      "{\"weight\":", JsonString(w.record.name),
                      ",\"why\":", JsonString(w.record.no_data), "}");
    }
    contents.weights.push_back(std::move(w.record));
  }
  for (auto& [name, r] : ranges) {
    CalibTensorStats s = r.stats();
    if (s.count == 0) s.min = s.max = 0;
    contents.tensors.push_back(std::move(s));
  }
  if (absl::Status s = WriteCalibFile(o.output, contents, spill.get()); !s.ok()) return s;
  const std::string summary = absl::StrCat(
      "{\"file\":", JsonString(o.output), ",\"samples\":", sample,
      ",\"weights\":", contents.weights.size(), ",\"weights_with_hessians\":", measured,
      ",\"tensors_with_ranges\":", contents.tensors.size(), ",\"without_data\":[", missing, "]}\n");
  std::fwrite(summary.data(), 1, summary.size(), stdout);
  return absl::OkStatus();
}

}  // namespace
}  // namespace onnx_opt::calibrate

int main(int argc, char** argv) {
  absl::StatusOr<onnx_opt::calibrate::Options> o = onnx_opt::calibrate::ParseArgs(argc, argv);
  absl::Status s = o.ok() ? onnx_opt::calibrate::Run(*o) : o.status();
  if (!s.ok()) {
    std::cerr << "onnx-opt-calibrate-helper: error: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
