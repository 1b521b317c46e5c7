// Writes the malformed-model corpus used by lit-tests/malformed/*.test.
//
//   make-malformed-models <out-dir> [case...]         (no case: all of them)
//   make-malformed-models --list
//   make-malformed-models --truncation-sweep <out-dir>  (every truncation of the base model)
//
// Every case is built from onnx.ModelProto (or from its serialized bytes, for damage the proto
// classes cannot express), so the corpus is reproducible and reviewable instead of hand-edited
// binaries. Cases that need files next to the model (external data, symlinks) get a directory
// <out-dir>/<case>/ holding model.onnx; the others are <out-dir>/<case>.onnx.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace {

namespace fs = std::filesystem;

constexpr int kOpsetVersion = 17;
constexpr int kIrVersion = 8;

bool WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "make-malformed-models: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

std::string FloatBytes(int count, float start = 0.5f) {
  std::string bytes(static_cast<size_t>(count) * 4, '\0');
  for (int i = 0; i < count; ++i) {
    float v = start + static_cast<float>(i);
    std::memcpy(bytes.data() + static_cast<size_t>(i) * 4, &v, 4);
  }
  return bytes;
}

void SetTensorType(onnx::ValueInfoProto* info, const std::string& name,
                   const std::vector<int64_t>& dims) {
  info->set_name(name);
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor_type->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

onnx::NodeProto* AddNode(onnx::GraphProto* graph, const std::string& op,
                         const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs, const std::string& name) {
  auto* node = graph->add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  return node;
}

onnx::ModelProto EmptyModel() {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("make-malformed-models");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpsetVersion);
  model.mutable_graph()->set_name("malformed");
  return model;
}

// The valid model every damaged case starts from: Y = MatMul(X, W) with W a [3,4] float
// initializer in raw_data.
onnx::ModelProto BaseModel() {
  onnx::ModelProto model = EmptyModel();
  auto* graph = model.mutable_graph();
  SetTensorType(graph->add_input(), "X", {2, 3});
  auto* weight = graph->add_initializer();
  weight->set_name("W");
  weight->set_data_type(onnx::TensorProto::FLOAT);
  weight->add_dims(3);
  weight->add_dims(4);
  weight->set_raw_data(FloatBytes(12));
  AddNode(graph, "MatMul", {"X", "W"}, {"Y"}, "matmul");
  SetTensorType(graph->add_output(), "Y", {2, 4});
  return model;
}

onnx::TensorProto* Weight(onnx::ModelProto& model) {
  return model.mutable_graph()->mutable_initializer(0);
}

// A base model whose weight lives in external file `location` at offset/length.
// Empty offset/length strings leave the entry out.
onnx::ModelProto ExternalModel(const std::string& location, const std::string& offset,
                               const std::string& length) {
  onnx::ModelProto model = BaseModel();
  auto* weight = Weight(model);
  weight->clear_raw_data();
  weight->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& key, const std::string& value) {
    auto* entry = weight->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add_entry("location", location);
  if (!offset.empty()) add_entry("offset", offset);
  if (!length.empty()) add_entry("length", length);
  return model;
}

std::string Serialize(const onnx::ModelProto& model) {
  std::string bytes;
  model.SerializeToString(&bytes);
  return bytes;
}

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(int field, int wire_type) { return Varint((uint64_t(field) << 3) | wire_type); }
std::string LengthDelimited(int field, const std::string& payload) {
  return Tag(field, 2) + Varint(payload.size()) + payload;
}

// ModelProto field numbers (onnx.proto): graph = 7, opset_import = 8. TensorProto: raw_data = 9.
constexpr int kModelGraphField = 7;
constexpr int kGraphInitializerField = 5;
constexpr int kTensorRawDataField = 9;

struct Context {
  fs::path out_dir;
};

using CaseFn = std::function<bool(const Context&, const std::string& name)>;

bool WriteModel(const Context& ctx, const std::string& name, const onnx::ModelProto& model) {
  return WriteBytes(ctx.out_dir / (name + ".onnx"), Serialize(model));
}

// Cases from a ModelProto edited by `edit`.
CaseFn Edited(std::function<void(onnx::ModelProto&)> edit) {
  return [edit](const Context& ctx, const std::string& name) {
    onnx::ModelProto model = BaseModel();
    edit(model);
    return WriteModel(ctx, name, model);
  };
}

CaseFn Raw(std::function<std::string()> make) {
  return [make](const Context& ctx, const std::string& name) {
    return WriteBytes(ctx.out_dir / (name + ".onnx"), make());
  };
}

// Cases that need a directory: the model plus side files. `files` maps relative paths to bytes.
CaseFn InDirectory(std::function<onnx::ModelProto()> make_model,
                   std::map<std::string, std::string> files,
                   std::function<bool(const fs::path& dir)> extra = nullptr) {
  return [=](const Context& ctx, const std::string& name) {
    fs::path dir = ctx.out_dir / name;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) {
      std::fprintf(stderr, "make-malformed-models: cannot create %s\n", dir.c_str());
      return false;
    }
    for (const auto& [rel, bytes] : files) {
      fs::create_directories((dir / rel).parent_path(), ec);
      if (!WriteBytes(dir / rel, bytes)) return false;
    }
    if (extra && !extra(dir)) return false;
    return WriteBytes(dir / "model.onnx", Serialize(make_model()));
  };
}

// A chain of `length` Relu nodes: X -> r0 -> r1 -> ... -> Y.
onnx::ModelProto Chain(int length) {
  onnx::ModelProto model = EmptyModel();
  auto* graph = model.mutable_graph();
  SetTensorType(graph->add_input(), "X", {2, 3});
  std::string previous = "X";
  for (int i = 0; i < length; ++i) {
    std::string out = i + 1 == length ? "Y" : "r" + std::to_string(i);
    AddNode(graph, "Relu", {previous}, {out}, "relu" + std::to_string(i));
    previous = out;
  }
  SetTensorType(graph->add_output(), "Y", {2, 3});
  return model;
}

// `depth` Identity nodes nested each in the then-branch of an If (else-branch: Identity too),
// written directly as bytes so nesting deeper than protobuf's own recursion limit is possible.
std::string NestedIfBytes(int depth) {
  // Innermost branch graph: Identity(X) -> out, output out.
  auto branch = [](const std::string& inner_node_bytes, const std::string& out) {
    onnx::GraphProto graph;
    graph.set_name("branch");
    SetTensorType(graph.add_output(), out, {2, 3});
    std::string bytes;
    graph.SerializeToString(&bytes);
    // GraphProto.node = 1: prepend the node so it is serialized before the output.
    return LengthDelimited(1, inner_node_bytes) + bytes;
  };
  onnx::NodeProto leaf;
  leaf.set_op_type("Identity");
  leaf.add_input("X");
  leaf.add_output("o" + std::to_string(depth));
  std::string node_bytes;
  leaf.SerializeToString(&node_bytes);
  for (int level = depth - 1; level >= 0; --level) {
    std::string then_graph = branch(node_bytes, "o" + std::to_string(level + 1));
    onnx::NodeProto if_node;
    if_node.set_op_type("If");
    if_node.add_input("C");
    if_node.add_output("o" + std::to_string(level));
    std::string head;
    if_node.SerializeToString(&head);
    // NodeProto.attribute = 5; AttributeProto: name = 1, g = 6, type = 20 (GRAPH = 5).
    onnx::AttributeProto then_attr;
    then_attr.set_name("then_branch");
    then_attr.set_type(onnx::AttributeProto::GRAPH);
    std::string then_attr_bytes;
    then_attr.SerializeToString(&then_attr_bytes);
    then_attr_bytes += LengthDelimited(6, then_graph);
    onnx::AttributeProto else_attr;
    else_attr.set_name("else_branch");
    else_attr.set_type(onnx::AttributeProto::GRAPH);
    onnx::GraphProto else_graph;
    else_graph.set_name("else");
    AddNode(&else_graph, "Identity", {"X"}, {"e" + std::to_string(level)}, "");
    SetTensorType(else_graph.add_output(), "e" + std::to_string(level), {2, 3});
    *else_attr.mutable_g() = else_graph;
    std::string else_attr_bytes;
    else_attr.SerializeToString(&else_attr_bytes);
    node_bytes = head + LengthDelimited(5, then_attr_bytes) + LengthDelimited(5, else_attr_bytes);
  }
  onnx::ModelProto model = EmptyModel();
  auto* graph = model.mutable_graph();
  SetTensorType(graph->add_input(), "X", {2, 3});
  auto* cond = graph->add_input();
  cond->set_name("C");
  cond->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::BOOL);
  cond->mutable_type()->mutable_tensor_type()->mutable_shape();
  SetTensorType(graph->add_output(), "o0", {2, 3});
  onnx::GraphProto graph_copy = *graph;
  std::string graph_bytes;
  graph_copy.SerializeToString(&graph_bytes);
  graph_bytes = LengthDelimited(1, node_bytes) + graph_bytes;
  model.clear_graph();
  return Serialize(model) + LengthDelimited(kModelGraphField, graph_bytes);
}

std::map<std::string, CaseFn> AllCases() {
  std::map<std::string, CaseFn> cases;
  const int64_t kMax = std::numeric_limits<int64_t>::max();

  // --- a valid model, so the tests can show the tool accepts what the cases damage ---
  cases["valid"] = Edited([](onnx::ModelProto&) {});

  // --- bytes that are not a ModelProto ---
  cases["empty-file"] = Raw([] { return std::string(); });
  cases["garbage"] = Raw([] { return std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10); });
  cases["text-not-binary"] = Raw([] { return std::string("<\n  ir_version: 8\n>\n"); });
  // A length-delimited graph field that declares 2 GiB but holds 4 bytes.
  cases["huge-length-prefix"] = Raw([] {
    return Tag(1, 0) + Varint(kIrVersion) + Tag(kModelGraphField, 2) + Varint(1ull << 31) +
           std::string("abcd");
  });

  // --- wrong wire types: the parser keeps them as unknown fields, so the model loses the field ---
  // graph (field 7) sent as a varint: the model has no graph.
  cases["wire-type-graph-varint"] = Raw([] {
    onnx::ModelProto model = BaseModel();
    model.clear_graph();
    return Serialize(model) + Tag(kModelGraphField, 0) + Varint(5);
  });
  // raw_data (TensorProto field 9) sent as a fixed64: the weight has no bytes.
  cases["wire-type-raw-data-fixed64"] = Raw([] {
    onnx::ModelProto model = BaseModel();
    onnx::TensorProto weight = model.graph().initializer(0);
    model.mutable_graph()->clear_initializer();
    weight.clear_raw_data();
    std::string tensor_bytes;
    weight.SerializeToString(&tensor_bytes);
    tensor_bytes += Tag(kTensorRawDataField, 1) + std::string(8, '\x01');
    onnx::GraphProto graph = model.graph();
    model.clear_graph();
    std::string graph_bytes;
    graph.SerializeToString(&graph_bytes);
    graph_bytes += LengthDelimited(kGraphInitializerField, tensor_bytes);
    return Serialize(model) + LengthDelimited(kModelGraphField, graph_bytes);
  });

  // --- tensor shape versus bytes ---
  cases["dims-negative"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->set_dims(0, -3);
  });
  // 2^62 * 4 elements: the element count fits in int64 but times 4 bytes does not.
  cases["dims-overflow-bytes"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->set_dims(0, int64_t{1} << 62);
  });
  // 2^40 * 2^40: the element count itself overflows.
  cases["dims-overflow-count"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->set_dims(0, int64_t{1} << 40);
    Weight(m)->set_dims(1, int64_t{1} << 40);
  });
  cases["raw-data-short"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->set_raw_data(FloatBytes(11));
  });
  cases["raw-data-long"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->set_raw_data(FloatBytes(13));
  });
  cases["float-data-short"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->clear_raw_data();
    for (int i = 0; i < 5; ++i) Weight(m)->add_float_data(1.0f);
  });
  cases["unknown-data-type"] = Edited([](onnx::ModelProto& m) {
    Weight(m)->set_data_type(1000);
  });

  // --- external data ---
  const std::string weight_file = FloatBytes(12);  // 48 bytes
  cases["external-valid"] = InDirectory([] { return ExternalModel("w.bin", "0", "48"); },
                                        {{"w.bin", weight_file}});
  cases["external-offset-past-end"] = InDirectory(
      [] { return ExternalModel("w.bin", "64", "48"); }, {{"w.bin", weight_file}});
  cases["external-length-past-end"] = InDirectory(
      [] { return ExternalModel("w.bin", "8", "48"); }, {{"w.bin", weight_file}});
  cases["external-offset-overflow"] = InDirectory(
      [kMax] { return ExternalModel("w.bin", std::to_string(kMax - 7), "48"); }, {{"w.bin", weight_file}});
  cases["external-length-mismatch"] = InDirectory(
      [] { return ExternalModel("w.bin", "0", "40"); }, {{"w.bin", weight_file}});
  cases["external-negative-offset"] = InDirectory(
      [] { return ExternalModel("w.bin", "-1", "48"); }, {{"w.bin", weight_file}});
  cases["external-offset-not-a-number"] = InDirectory(
      [] { return ExternalModel("w.bin", "12abc", "48"); }, {{"w.bin", weight_file}});
  cases["external-valid-no-length"] = InDirectory([] { return ExternalModel("w.bin", "", ""); },
                                            {{"w.bin", weight_file}});
  cases["external-missing-file"] = InDirectory([] { return ExternalModel("nothere.bin", "0", "48"); },
                                               {});
  cases["external-dotdot"] = InDirectory([] { return ExternalModel("../secret.bin", "0", "48"); },
                                         {{"../secret.bin", weight_file}});
  cases["external-absolute"] = InDirectory([] { return ExternalModel("/etc/passwd", "0", "48"); },
                                           {});
  cases["external-is-directory"] = InDirectory([] { return ExternalModel("sub", "0", "48"); },
                                               {{"sub/w.bin", weight_file}});
  // w.bin is a symlink to a file outside the model's folder.
  cases["external-symlink-file"] = InDirectory(
      [] { return ExternalModel("w.bin", "0", "48"); }, {{"../outside/w.bin", weight_file}},
      [](const fs::path& dir) {
        std::error_code ec;
        fs::create_symlink("../outside/w.bin", dir / "w.bin", ec);
        return !ec;
      });
  // sub/ is a symlink to a folder outside: sub/w.bin resolves outside the model's folder.
  cases["external-symlink-dir"] = InDirectory(
      [] { return ExternalModel("sub/w.bin", "0", "48"); }, {{"../outside-dir/w.bin", weight_file}},
      [](const fs::path& dir) {
        std::error_code ec;
        fs::create_directory_symlink("../outside-dir", dir / "sub", ec);
        return !ec;
      });

  // --- graph structure ---
  cases["cycle"] = Edited([](onnx::ModelProto& m) {
    auto* g = m.mutable_graph();
    g->clear_node();
    g->clear_output();
    AddNode(g, "Add", {"X", "b"}, {"a"}, "add_a");
    AddNode(g, "Relu", {"a"}, {"b"}, "relu_b");
    SetTensorType(g->add_output(), "a", {2, 3});
  });
  cases["self-loop"] = Edited([](onnx::ModelProto& m) {
    auto* g = m.mutable_graph();
    g->clear_node();
    g->clear_output();
    AddNode(g, "Add", {"X", "s"}, {"s"}, "add_self");
    SetTensorType(g->add_output(), "s", {2, 3});
  });
  cases["missing-input"] = Edited([](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(0)->set_input(1, "nowhere");
  });
  cases["missing-graph-output"] = Edited([](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_output(0)->set_name("nowhere");
  });
  cases["duplicate-node-output"] = Edited([](onnx::ModelProto& m) {
    AddNode(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu_twice");
  });
  cases["duplicate-input-output"] = Edited([](onnx::ModelProto& m) {
    AddNode(m.mutable_graph(), "Relu", {"Y"}, {"X"}, "relu_redefines_input");
  });
  cases["duplicate-initializer"] = Edited([](onnx::ModelProto& m) {
    *m.mutable_graph()->add_initializer() = m.graph().initializer(0);
  });
  cases["duplicate-graph-input"] = Edited([](onnx::ModelProto& m) {
    *m.mutable_graph()->add_input() = m.graph().input(0);
  });
  cases["subgraph-undefined-outer"] = Edited([](onnx::ModelProto& m) {
    auto* g = m.mutable_graph();
    auto* cond = g->add_input();
    cond->set_name("C");
    cond->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::BOOL);
    cond->mutable_type()->mutable_tensor_type()->mutable_shape();
    auto* if_node = AddNode(g, "If", {"C"}, {"Z"}, "if_outer");
    for (const char* branch : {"then_branch", "else_branch"}) {
      auto* attr = if_node->add_attribute();
      attr->set_name(branch);
      attr->set_type(onnx::AttributeProto::GRAPH);
      auto* body = attr->mutable_g();
      body->set_name(branch);
      // then_branch uses a name defined nowhere; else_branch uses the outer Y (fine).
      AddNode(body, "Identity", {std::string(branch) == "then_branch" ? "not_in_any_scope" : "Y"},
              {std::string(branch) + "_out"}, "");
      SetTensorType(body->add_output(), std::string(branch) + "_out", {2, 4});
    }
    SetTensorType(g->add_output(), "Z", {2, 4});
  });
  cases["no-graph"] = Edited([](onnx::ModelProto& m) { m.clear_graph(); });
  cases["opset-missing-default"] = Edited([](onnx::ModelProto& m) { m.clear_opset_import(); });
  cases["opset-missing-domain"] = Edited([](onnx::ModelProto& m) {
    auto* node = AddNode(m.mutable_graph(), "FusedMatMul", {"X", "W"}, {"F"}, "fused");
    node->set_domain("com.microsoft");
    SetTensorType(m.mutable_graph()->add_output(), "F", {2, 4});
  });
  cases["node-no-op-type"] = Edited([](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(0)->clear_op_type();
  });

  // --- depth ---
  cases["chain-10000"] = [](const Context& ctx, const std::string& name) {
    return WriteModel(ctx, name, Chain(10000));
  };
  cases["nested-if-25"] = Raw([] { return NestedIfBytes(25); });
  cases["nested-if-1000"] = Raw([] { return NestedIfBytes(1000); });
  return cases;
}

int Usage() {
  std::fprintf(stderr,
               "usage: make-malformed-models <out-dir> [case...]\n"
               "       make-malformed-models --list\n"
               "       make-malformed-models --truncation-sweep <out-dir>\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string first = argv[1];
  auto cases = AllCases();
  const std::string base = Serialize(BaseModel());
  if (first == "--list") {
    for (const auto& [name, fn] : cases) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (first == "--truncation-sweep") {
    if (argc != 3) return Usage();
    fs::path dir = argv[2];
    std::error_code ec;
    fs::create_directories(dir, ec);
    for (size_t offset = 0; offset < base.size(); ++offset) {
      if (!WriteBytes(dir / ("truncated-" + std::to_string(offset) + ".onnx"),
                      base.substr(0, offset))) {
        return 1;
      }
    }
    return 0;
  }
  Context ctx{fs::path(first)};
  std::error_code ec;
  fs::create_directories(ctx.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "make-malformed-models: cannot create %s\n", ctx.out_dir.c_str());
    return 1;
  }
  std::vector<std::string> wanted(argv + 2, argv + argc);
  bool all = wanted.empty();
  int status = 0;
  for (const auto& [name, fn] : cases) {
    if (!all && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    if (!fn(ctx, name)) status = 1;
  }
  for (const auto& name : wanted) {
    if (!cases.count(name)) {
      std::fprintf(stderr, "make-malformed-models: unknown case '%s' (see --list)\n",
                   name.c_str());
      status = 1;
    }
  }
  return status;
}
