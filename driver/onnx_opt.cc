#include "driver/onnx_opt.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "ir/onnx_io.h"
#include "ir/strings.h"
#include "ir/text/text.h"
#include "ir/verifier.h"
#include "passes/core/utils.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {

namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Prefixes `name: ` unless the message already starts with it.
absl::Status Prefixed(const absl::Status& status, std::string_view name) {
  if (status.ok() || absl::StartsWith(status.message(), ToAbsl(name))) return status;
  return absl::Status(status.code(), absl::StrCat(ToAbsl(name), ": ", status.message()));
}

}  // namespace

ModelFormat FormatFromPath(std::string_view path) {
  if (EndsWith(path, ".onnxtxt") || EndsWith(path, ".onnxtext") || EndsWith(path, ".txt")) {
    return ModelFormat::kText;
  }
  if (EndsWith(path, ".onnx")) return ModelFormat::kOnnx;
  return ModelFormat::kAuto;
}

ModelFormat SniffFormat(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[i]))) ++i;
  if (i == bytes.size()) return ModelFormat::kText;  // empty: let the text parser explain
  char first = bytes[i];
  if (first != '<' && first != '#' && !std::isalpha(static_cast<unsigned char>(first)) &&
      first != '_') {
    return ModelFormat::kOnnx;
  }
  // A protobuf may start with a letter byte by chance; text is printable throughout.
  size_t limit = std::min<size_t>(bytes.size(), 4096);
  for (size_t j = i; j < limit; ++j) {
    unsigned char c = static_cast<unsigned char>(bytes[j]);
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return ModelFormat::kOnnx;
  }
  return ModelFormat::kText;
}

absl::StatusOr<std::unique_ptr<Model>> LoadModelFromBytes(std::string_view bytes,
                                                          const std::string& name, bool verify) {
  std::unique_ptr<Model> model;
  if (SniffFormat(bytes) == ModelFormat::kText) {
    absl::StatusOr<std::unique_ptr<Model>> parsed = ParseModel(bytes, name);
    if (!parsed.ok()) return Prefixed(parsed.status(), name);
    model = *std::move(parsed);
  } else {
    onnx::ModelProto proto;
    if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": not a valid ONNX protobuf"));
    }
    absl::StatusOr<std::unique_ptr<Model>> imported = ImportModel(std::move(proto), "");
    if (!imported.ok()) return Prefixed(imported.status(), name);
    model = *std::move(imported);
  }
  if (verify) {
    if (absl::Status s = VerifyModel(*model); !s.ok()) return Prefixed(s, name);
  }
  return model;
}

namespace {

// A `.onnx` file the protobuf reader refused: when its first bytes are the text syntax (an
// `--emit=text -o x.onnx` output, a renamed .onnxtxt), the error says so and how to read it.
absl::Status WithTextHint(const absl::Status& status, const std::string& path) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return status;
  // Only a regular file is read again: a FIFO or device would block or never end.
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return status;
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const bool blank =
      std::all_of(head.begin(), head.end(), [](unsigned char c) { return std::isspace(c) != 0; });
  if (blank || SniffFormat(head) != ModelFormat::kText) return status;
  return absl::Status(status.code(),
                      absl::StrCat(status.message(),
                                   "; the file holds ONNX text: rename it to .onnxtxt "
                                   "(the extension picks the reader)"));
}

absl::StatusOr<std::unique_ptr<Model>> LoadUnverified(const std::string& path,
                                                      const LoadModelFileOptions& options) {
  ModelFormat format = options.format;
  if (format == ModelFormat::kAuto && path != "-") format = FormatFromPath(path);
  if (format == ModelFormat::kOnnx && path != "-") {
    // Streams the file and maps external data next to it.
    LoadOptions load_options;
    load_options.verify = false;
    absl::StatusOr<std::unique_ptr<Model>> model = LoadModel(path, load_options);
    if (!model.ok()) return Prefixed(WithTextHint(model.status(), path), path);
    return model;
  }
  absl::StatusOr<std::string> bytes = ReadInputFile(path);
  if (!bytes.ok()) return bytes.status();
  if (format == ModelFormat::kAuto && path != "-" && SniffFormat(*bytes) == ModelFormat::kOnnx) {
    bytes->clear();  // LoadModel reads it again, resolving external data relative to the file
    LoadOptions load_options;
    load_options.verify = false;
    absl::StatusOr<std::unique_ptr<Model>> model = LoadModel(path, load_options);
    if (!model.ok()) return Prefixed(model.status(), path);
    return model;
  }
  std::string name = path == "-" ? std::string("<stdin>") : path;
  return LoadModelFromBytes(*bytes, name, /*verify=*/false);
}

// Exporters (and hand-edited models) sometimes list nodes before the nodes producing their
// inputs; ONNX Runtime accepts that, so we sort such graphs stably instead of refusing them.
// Graphs already in order are left untouched, so a round trip stays lossless.
absl::StatusOr<int> SortOutOfOrderGraphs(Model& model) {
  int sorted = 0;
  absl::Status status;
  model.WalkGraphs([&](Graph& graph) {
    if (!status.ok()) return;
    absl::StatusOr<std::vector<Node*>> order = StableTopologicalOrder(graph);
    if (!order.ok()) return;  // a real cycle: the verifier names it
    size_t i = 0;
    bool in_order = true;
    for (const auto& node : graph.nodes()) in_order = in_order && node.get() == (*order)[i++];
    if (!in_order) {
      graph.Reorder(*order);
      ++sorted;
    }
  });
  return sorted;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> LoadModelFile(const std::string& path,
                                                     const LoadModelFileOptions& options) {
  absl::StatusOr<std::unique_ptr<Model>> model = LoadUnverified(path, options);
  if (!model.ok()) return model.status();
  if (!options.verify) return model;  // as stored: lets topo-sort and tests see the raw order
  std::string name = path == "-" ? std::string("<stdin>") : path;
  absl::StatusOr<int> sorted = SortOutOfOrderGraphs(**model);
  if (!sorted.ok()) return Prefixed(sorted.status(), name);
  if (*sorted > 0) {
    std::cerr << "onnx-opt: note: " << name << ": " << *sorted
              << " graph(s) listed nodes before their inputs' producers; sorted topologically\n";
  }
  if (absl::Status s = VerifyModel(**model); !s.ok()) return Prefixed(s, name);
  return model;
}

absl::Status SaveModelFile(const Model& model, const std::string& path,
                           const SaveModelFileOptions& options) {
  ModelFormat format = options.format;
  if (format == ModelFormat::kAuto) {
    format = FormatFromPath(path) == ModelFormat::kText ? ModelFormat::kText : ModelFormat::kOnnx;
  }
  if (format == ModelFormat::kOnnx) {
    SaveOptions save_options;
    save_options.external_data_threshold = options.external_data_threshold;
    return Prefixed(SaveModel(model, path, save_options), path);
  }
  PrintOptions print_options;
  print_options.elide_tensors_larger_than = options.elide_tensors_larger_than;
  std::string text = PrintModel(model, print_options);
  return Prefixed(WriteOutputFile(path, text), path);
}

absl::StatusOr<std::unique_ptr<PassManager>> BuildPassManager(std::string_view pipeline,
                                                              const PassRegistry& registry,
                                                              PassManagerOptions options,
                                                              int64_t elide_tensors_larger_than) {
  if (!options.verifier) options.verifier = [](const Model& m) { return VerifyModel(m); };
  if (!options.printer) {
    options.printer = [elide_tensors_larger_than](const Model& m) {
      PrintOptions print_options;
      print_options.elide_tensors_larger_than = elide_tensors_larger_than;
      return PrintModel(m, print_options);
    };
  }
  auto pm = std::make_unique<PassManager>(std::move(options));
  if (absl::Status s = pm->AddPipeline(pipeline, registry); !s.ok()) return s;
  return pm;
}

absl::Status OptimizeModelFile(const std::string& input, std::string_view pipeline,
                               const std::string& output) {
  PassRegistry registry = MakeDefaultPassRegistry();
  absl::StatusOr<std::unique_ptr<PassManager>> pm = BuildPassManager(pipeline, registry);
  if (!pm.ok()) return pm.status();
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModelFile(input);
  if (!model.ok()) return model.status();
  if (absl::Status s = (*pm)->Run(**model); !s.ok()) return Prefixed(s, input);
  return SaveModelFile(**model, output);
}

}  // namespace onnx_opt
