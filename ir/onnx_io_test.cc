// ONNX protobuf import/export: losslessness, zero-copy tensors, typed fields, file handling.
#include "ir/onnx_io.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ir/test_util.h"
#include "ir/verifier.h"

namespace onnx_opt {
namespace {

using ::onnx_opt::testing::FloatTensor;
using ::onnx_opt::testing::ListDir;
using ::onnx_opt::testing::ReadFile;
using ::onnx_opt::testing::SetTensorType;
using ::onnx_opt::testing::SmallModel;
using ::onnx_opt::testing::TempDir;
using ::onnx_opt::testing::WriteFile;

// Empty when equal, else the differences.
std::string Diff(const google::protobuf::Message& expected, const google::protobuf::Message& got) {
  google::protobuf::util::MessageDifferencer differencer;
  std::string report;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(expected, got)) return "";
  return report.empty() ? "differ" : report;
}

// Adds an unknown (future) field to a message, as a newer onnx.proto would have written it.
void AddUnknown(google::protobuf::Message* m, int number, const std::string& value) {
  m->GetReflection()->MutableUnknownFields(m)->AddLengthDelimited(number, value);
}

onnx::AttributeProto* AddAttr(onnx::NodeProto* node, const std::string& name,
                              onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

// A model touching every field the importer models, plus unknown fields everywhere.
onnx::ModelProto FullModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("ir_tests");
  m.set_producer_version("1.0");
  m.set_domain("com.example");
  m.set_model_version(3);
  m.set_doc_string("model doc");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(17);
  op = m.add_opset_import();
  op->set_domain("com.example");
  op->set_version(1);
  auto* meta = m.add_metadata_props();
  meta->set_key("author");
  meta->set_value("tests");
  m.add_training_info()->mutable_algorithm()->set_name("training graph");
  AddUnknown(&m, 99, "model-future");

  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("main");
  g->set_doc_string("graph doc");
  AddUnknown(g, 98, "graph-future");
  SetTensorType(g->add_input(), "x", onnx::TensorProto::FLOAT, {2, 3});
  // Symbolic, unknown and denoted dims; a type denotation; a doc string; unknown fields.
  auto* dims = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->mutable_dim(0)->set_dim_param("batch");
  dims->mutable_dim(0)->set_denotation("DATA_BATCH");
  dims->add_dim();
  g->mutable_input(0)->mutable_type()->set_denotation("TENSOR");
  g->mutable_input(0)->set_doc_string("input doc");
  AddUnknown(g->mutable_input(0), 97, "valueinfo-future");
  SetTensorType(g->add_input(), "cond", onnx::TensorProto::BOOL, {});
  // An input with a default value, declared without a shape.
  g->add_input()->set_name("bias");
  g->mutable_input(2)->mutable_type()->mutable_tensor_type()->set_elem_type(1);
  auto* seq = g->add_input();
  seq->set_name("seq");
  seq->mutable_type()
      ->mutable_sequence_type()
      ->mutable_elem_type()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::INT64);

  *g->add_initializer() = FloatTensor("bias", {3}, {0.5f, 1.5f, 2.5f});
  onnx::TensorProto w = FloatTensor("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  w.set_doc_string("weights");
  AddUnknown(&w, 96, "tensor-future");
  *g->add_initializer() = w;
  onnx::TensorProto names;
  names.set_name("labels");
  names.set_data_type(onnx::TensorProto::STRING);
  names.add_dims(2);
  names.add_string_data("cat");
  names.add_string_data("dog");
  *g->add_initializer() = names;
  onnx::TensorProto empty = FloatTensor("empty", {0, 4}, {});
  *g->add_initializer() = empty;

  auto* sparse = g->add_sparse_initializer();
  sparse->add_dims(10);
  *sparse->mutable_values() = FloatTensor("sparse_w", {1}, {7});
  auto* qa = g->add_quantization_annotation();
  qa->set_tensor_name("w");
  auto* qp = qa->add_quant_parameter_tensor_names();
  qp->set_key("SCALE_TENSOR");
  qp->set_value("w_scale");

  // Nodes: MatMul with a custom-domain sibling, an If with both branches, absent optional
  // input/output, every attribute type on one node.
  auto* mm = g->add_node();
  mm->set_op_type("MatMul");
  mm->set_name("mm");
  mm->set_doc_string("node doc");
  mm->add_input("x");
  mm->add_input("w");
  mm->add_output("mm_out");
  AddUnknown(mm, 95, "node-future");

  auto* all = g->add_node();
  all->set_op_type("Everything");
  all->set_domain("com.example");
  all->add_input("mm_out");
  all->add_input("");
  all->add_input("bias");
  all->add_output("e_out");
  all->add_output("");
  AddAttr(all, "f", onnx::AttributeProto::FLOAT)->set_f(0.25f);
  AddAttr(all, "i", onnx::AttributeProto::INT)->set_i(-7);
  auto* s = AddAttr(all, "s", onnx::AttributeProto::STRING);
  s->set_s(std::string("bytes\0inside", 12));
  s->set_doc_string("attr doc");
  AddUnknown(s, 94, "attr-future");
  *AddAttr(all, "t", onnx::AttributeProto::TENSOR)->mutable_t() = FloatTensor("t", {1}, {3});
  auto* st = AddAttr(all, "st", onnx::AttributeProto::SPARSE_TENSOR)->mutable_sparse_tensor();
  st->add_dims(4);
  *st->mutable_indices() = FloatTensor("idx", {1}, {0});
  AddAttr(all, "tp", onnx::AttributeProto::TYPE_PROTO)
      ->mutable_tp()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::INT8);
  auto* fs = AddAttr(all, "fs", onnx::AttributeProto::FLOATS);
  fs->add_floats(1.0f);
  fs->add_floats(-0.0f);
  auto* is = AddAttr(all, "is", onnx::AttributeProto::INTS);
  is->add_ints(1);
  is->add_ints(int64_t{1} << 40);
  AddAttr(all, "empty_ints", onnx::AttributeProto::INTS);
  auto* ss = AddAttr(all, "ss", onnx::AttributeProto::STRINGS);
  ss->add_strings("a");
  ss->add_strings("");
  auto* ts = AddAttr(all, "ts", onnx::AttributeProto::TENSORS);
  *ts->add_tensors() = FloatTensor("t0", {1}, {1});
  *ts->add_tensors() = FloatTensor("t1", {2}, {1, 2});
  auto* sts = AddAttr(all, "sts", onnx::AttributeProto::SPARSE_TENSORS);
  sts->add_sparse_tensors()->add_dims(2);
  auto* tps = AddAttr(all, "tps", onnx::AttributeProto::TYPE_PROTOS);
  tps->add_type_protos()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT16);
  auto* gs = AddAttr(all, "gs", onnx::AttributeProto::GRAPHS);
  auto* g0 = gs->add_graphs();
  g0->set_name("g0");
  // An outer value as output: one Value has one type, so the entry repeats x's declaration.
  *g0->add_output() = g->input(0);
  auto* ref = AddAttr(all, "ref", onnx::AttributeProto::FLOAT);
  ref->set_ref_attr_name("alpha");

  auto* if_node = g->add_node();
  if_node->set_op_type("If");
  if_node->set_name("branch");
  if_node->add_input("cond");
  if_node->add_output("y");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = AddAttr(if_node, branch, onnx::AttributeProto::GRAPH);
    onnx::GraphProto* sub = a->mutable_g();
    sub->set_name(branch);
    auto* neg = sub->add_node();
    neg->set_op_type("Neg");
    neg->add_input("e_out");  // value of the enclosing graph
    neg->add_output(std::string(branch) + "_out");
    SetTensorType(sub->add_output(), std::string(branch) + "_out", onnx::TensorProto::FLOAT, {});
    *sub->add_initializer() = FloatTensor(std::string(branch) + "_k", {1}, {4});
    AddUnknown(sub, 93, "subgraph-future");
  }
  SetTensorType(g->add_output(), "y", onnx::TensorProto::FLOAT, {3, 2});
  g->mutable_output(0)->set_doc_string("output doc");
  // value_info in an order unrelated to the node order, plus an entry for no value at all.
  SetTensorType(g->add_value_info(), "e_out", onnx::TensorProto::FLOAT, {3, 2});
  SetTensorType(g->add_value_info(), "mm_out", onnx::TensorProto::FLOAT, {2, 2});
  SetTensorType(g->add_value_info(), "ghost", onnx::TensorProto::INT32, {1});

  onnx::FunctionProto* f = m.add_functions();
  f->set_name("Scale");
  f->set_domain("com.example");
  f->set_doc_string("function doc");
  f->add_input("a");
  f->add_output("b");
  f->add_attribute("alpha");
  auto* fop = f->add_opset_import();
  fop->set_domain("");
  fop->set_version(17);
  auto* fn = f->add_node();
  fn->set_op_type("Mul");
  fn->set_domain("ai.onnx.ml");
  fn->add_input("a");
  fn->add_input("a");
  fn->add_output("b");
  fop = f->add_opset_import();
  fop->set_domain("ai.onnx.ml");
  fop->set_version(3);
  // FunctionProto fields newer than ONNX 1.12: attribute_proto (11), value_info (12),
  // overload (13).
  onnx::AttributeProto beta;
  beta.set_name("beta");
  beta.set_type(onnx::AttributeProto::FLOAT);
  beta.set_f(2.0f);
  AddUnknown(f, 11, beta.SerializeAsString());
  onnx::ValueInfoProto fvi;
  SetTensorType(&fvi, "b", onnx::TensorProto::FLOAT, {});
  AddUnknown(f, 12, fvi.SerializeAsString());
  AddUnknown(f, 13, "overload-1");
  return m;
}

TEST(OnnxIo, ImportExportIsLossless) {
  onnx::ModelProto original = FullModel();
  onnx::ModelProto input = original;
  auto model = ImportModel(std::move(input), "");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(VerifyModel(**model).ok()) << VerifyModel(**model);
  onnx::ModelProto exported;
  ASSERT_TRUE(ExportModel(**model, &exported).ok());
  EXPECT_EQ(Diff(original, exported), "");
}

TEST(OnnxIo, LoadingAProtobufSerializedFileIsLossless) {
  // The file parser frames graph/initializer/raw_data itself; check it against protobuf's output.
  TempDir dir;
  onnx::ModelProto original = FullModel();
  original.mutable_graph()->mutable_initializer(1)->set_raw_data(std::string(3 << 20, '\x7f'));
  original.mutable_graph()->mutable_initializer(1)->clear_dims();
  original.mutable_graph()->mutable_initializer(1)->add_dims(3 << 18);
  WriteFile(dir.File("m.onnx"), original.SerializeAsString());
  auto model = LoadModel(dir.File("m.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  onnx::ModelProto exported;
  ASSERT_TRUE(ExportModel(**model, &exported).ok());
  EXPECT_EQ(Diff(original, exported), "");
}

TEST(OnnxIo, ImportModelsFieldsInTheIr) {
  auto model = ImportModel(FullModel(), "");
  ASSERT_TRUE(model.ok()) << model.status();
  const Graph& g = *(*model)->graph;
  Value* bias = g.FindValue("bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_TRUE(bias->is_graph_input());
  EXPECT_TRUE(bias->is_initializer());
  EXPECT_FALSE(bias->type.shape.has_value());  // the input's declared type, not the tensor's
  Value* x = g.FindValue("x");
  ASSERT_TRUE(x->type.shape.has_value());
  EXPECT_EQ((*x->type.shape)[0], (Dim{std::nullopt, "batch", "DATA_BATCH"}));
  EXPECT_EQ((*x->type.shape)[1], Dim::Fixed(3));
  EXPECT_EQ((*x->type.shape)[2], Dim());
  EXPECT_EQ(g.FindValue("seq")->type.kind, ValueType::Kind::kOpaque);
  const Node* all = nullptr;
  for (const auto& n : g.nodes()) {
    if (n->op_type == "Everything") all = n.get();
  }
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->input(1), nullptr);
  EXPECT_EQ(all->output(1), nullptr);
  EXPECT_EQ(all->GetFloat("f"), 0.25f);
  EXPECT_EQ(all->GetInts("is"), (std::vector<int64_t>{1, int64_t{1} << 40}));
  EXPECT_EQ(all->FindAttribute("ref")->ref_attr_name, "alpha");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(all->FindAttribute("ref")->value));
  ASSERT_EQ(all->subgraphs().size(), 1u);
  EXPECT_EQ(all->subgraphs()[0]->outputs()[0], x);  // resolved to the outer value
  // The If branches use e_out of the main graph.
  Value* e_out = g.FindValue("e_out");
  EXPECT_EQ(e_out->uses().size(), 2u);
  ASSERT_EQ((*model)->functions.size(), 1u);
  const Function& f = (*model)->functions[0];
  EXPECT_EQ(f.overload, "overload-1");
  ASSERT_EQ(f.attribute_defaults.size(), 1u);
  EXPECT_EQ(f.attribute_defaults[0].name, "beta");
  EXPECT_FALSE(f.unknown_fields.empty());  // value_info (12) stays opaque
  EXPECT_EQ(f.body->nodes().front()->domain, "ai.onnx.ml");
}

TEST(OnnxIo, SaveStreamsTheSameModelAsExport) {
  TempDir dir;
  auto model = ImportModel(FullModel(), "");
  ASSERT_TRUE(model.ok()) << model.status();
  onnx::ModelProto exported;
  ASSERT_TRUE(ExportModel(**model, &exported).ok());
  std::string path = dir.File("full.onnx");
  ASSERT_TRUE(SaveModel(**model, path).ok());
  onnx::ModelProto saved;
  ASSERT_TRUE(saved.ParseFromString(ReadFile(path)));
  EXPECT_EQ(Diff(exported, saved), "");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"full.onnx"});  // no temporaries left
  // Loading the saved file gives the original again.
  auto reloaded = LoadModel(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  onnx::ModelProto again;
  ASSERT_TRUE(ExportModel(**reloaded, &again).ok());
  EXPECT_EQ(Diff(FullModel(), again), "");
}

TEST(OnnxIo, RawDataIsMovedIntoTheTensorNotCopied) {
  onnx::ModelProto proto = SmallModel();
  std::vector<float> big(4096, 1.0f);
  *proto.mutable_graph()->mutable_initializer(0) = FloatTensor("w", {4096}, big);
  const char* raw = proto.graph().initializer(0).raw_data().data();
  auto model = ImportModel(std::move(proto), "");
  ASSERT_TRUE(model.ok()) << model.status();
  const TensorPtr& w = (*model)->graph->FindValue("w")->initializer();
  EXPECT_EQ(reinterpret_cast<const char*>(w->bytes().data()), raw);
  EXPECT_EQ(w->bytes().size(), 4096u * 4);
}

TEST(OnnxIo, TypedFieldsAreReadInRawLayoutAndWrittenBackTyped) {
  onnx::ModelProto proto = SmallModel();
  auto* g = proto.mutable_graph();
  auto add = [&](const std::string& name, int type, std::vector<int64_t> dims) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    return t;
  };
  auto* f = add("f32", onnx::TensorProto::FLOAT, {2});
  f->add_float_data(1.5f);
  f->add_float_data(-2.0f);
  auto* i8 = add("i8", onnx::TensorProto::INT8, {3});
  for (int v : {-128, 5, 127}) i8->add_int32_data(v);
  auto* h = add("f16", onnx::TensorProto::FLOAT16, {2});
  h->add_int32_data(0x3c00);  // 1.0
  h->add_int32_data(0xc000);  // -2.0
  auto* b = add("bool", onnx::TensorProto::BOOL, {2});
  b->add_int32_data(1);
  b->add_int32_data(0);
  auto* i4 = add("i4", 22, {3});  // int4: one packed byte (two elements) per int32
  i4->add_int32_data(0x9f);       // elements -1, -7
  i4->add_int32_data(0x07);       // element 7 (high nibble padding)
  auto* i64 = add("i64", onnx::TensorProto::INT64, {2});
  i64->add_int64_data(-3);
  i64->add_int64_data(int64_t{1} << 50);
  auto* u32 = add("u32", onnx::TensorProto::UINT32, {1});
  u32->add_uint64_data(0xfffffffeu);
  auto* d = add("f64", onnx::TensorProto::DOUBLE, {1});
  d->add_double_data(0.125);
  add("empty", onnx::TensorProto::FLOAT, {0});  // no data field at all
  const onnx::ModelProto original = proto;
  auto model = ImportModel(std::move(proto), "");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(VerifyModel(**model).ok()) << VerifyModel(**model);
  const Graph& graph = *(*model)->graph;
  auto tensor = [&](const char* name) { return graph.FindValue(name)->initializer(); };
  EXPECT_EQ(tensor("f32")->CopyValues<float>(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(*tensor("i8")->ToInt64s(), (std::vector<int64_t>{-128, 5, 127}));
  EXPECT_EQ(*tensor("f16")->ToFloats(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(*tensor("bool")->ToInt64s(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(*tensor("i4")->ToInt64s(), (std::vector<int64_t>{-1, -7, 7}));
  EXPECT_EQ(*tensor("i64")->ToInt64s(), (std::vector<int64_t>{-3, int64_t{1} << 50}));
  EXPECT_EQ(tensor("u32")->CopyValues<uint32_t>(), (std::vector<uint32_t>{0xfffffffeu}));
  EXPECT_EQ(tensor("f64")->CopyValues<double>(), (std::vector<double>{0.125}));
  // Export writes each back in the field it came in (signed narrow types sign-extended, as
  // they were), byte for byte; a tensor made in memory goes to raw_data.
  onnx::ModelProto out;
  ASSERT_TRUE(ExportModel(**model, &out).ok());
  ASSERT_EQ(out.graph().initializer_size(), original.graph().initializer_size());
  for (int i = 0; i < original.graph().initializer_size(); ++i) {
    EXPECT_EQ(out.graph().initializer(i).SerializeAsString(),
              original.graph().initializer(i).SerializeAsString())
        << original.graph().initializer(i).name();
  }
  EXPECT_FALSE(out.graph().initializer(9).has_raw_data());
  Tensor made = Tensor::FromValues<float>(DataType::kFloat, {1}, std::vector<float>{3.0f});
  (*model)->graph->AddInitializer("made", std::make_shared<const Tensor>(std::move(made)));
  ASSERT_TRUE(ExportModel(**model, &out).ok());
  EXPECT_TRUE(out.graph().initializer(out.graph().initializer_size() - 1).has_raw_data());
}

TEST(OnnxIo, TypedFieldOfTheWrongTypeIsRejected) {
  onnx::ModelProto proto = SmallModel();
  auto* w = proto.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->add_int64_data(1);
  w->add_int64_data(2);
  auto model = ImportModel(std::move(proto), "");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            "tensor 'w': data in int64_data does not fit data type float (1)");
}

TEST(OnnxIo, Int4ModelsGetIrVersion10) {
  onnx::ModelProto proto = SmallModel();
  onnx::TensorProto* q = proto.mutable_graph()->add_initializer();
  q->set_name("q");
  q->set_data_type(21);  // uint4
  q->add_dims(4);
  q->set_raw_data(std::string("\x21\xf3", 2));  // elements 1, 2, 3, 15 (low nibble first)
  auto model = ImportModel(std::move(proto), "");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(*(*model)->graph->FindValue("q")->initializer()->ToInt64s(),
            (std::vector<int64_t>{1, 2, 3, 15}));
  onnx::ModelProto out;
  ASSERT_TRUE(ExportModel(**model, &out).ok());
  EXPECT_EQ(out.ir_version(), 10);
  EXPECT_EQ(out.graph().initializer(1).raw_data(), std::string("\x21\xf3", 2));
  // Without 4-bit types the version is kept.
  auto small = ImportModel(SmallModel(), "");
  ASSERT_TRUE(ExportModel(**small, &out).ok());
  EXPECT_EQ(out.ir_version(), 8);
}

TEST(OnnxIo, SavingOverTheInputIsSafe) {
  TempDir dir;
  std::string path = dir.File("m.onnx");
  ASSERT_TRUE(SaveModel(**ImportModel(FullModel(), ""), path).ok());
  auto model = LoadModel(path);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(SaveModel(**model, path).ok());
  auto again = LoadModel(path);
  ASSERT_TRUE(again.ok()) << again.status();
  onnx::ModelProto out;
  ASSERT_TRUE(ExportModel(**again, &out).ok());
  EXPECT_EQ(Diff(FullModel(), out), "");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"m.onnx"});
}

TEST(OnnxIo, FailedSaveLeavesNoPartialOutput) {
  TempDir dir;
  auto model = ImportModel(SmallModel(), "");
  ASSERT_TRUE(model.ok());
  // The sidecar would land on a folder: refused before anything is written.
  std::filesystem::create_directory(dir.File("blocked"));
  SaveOptions options;
  options.external_data_threshold = 0;
  options.external_data_name = "blocked";
  absl::Status s = SaveModel(**model, dir.File("out.onnx"), options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), dir.File("blocked") + ": is a folder; cannot write a file there") << s;
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"blocked"});
  // A value type that cannot be exported fails before any file is created.
  (*model)->graph->inputs()[0]->type.kind = ValueType::Kind::kOpaque;
  (*model)->graph->inputs()[0]->type.opaque_proto = "\xff\xff";
  s = SaveModel(**model, dir.File("out.onnx"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"blocked"});
  // A missing folder is reported with the file name.
  s = SaveModel(**ImportModel(SmallModel(), ""), dir.File("no/such/out.onnx"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no/such/out.onnx"), absl::string_view::npos) << s;
}

TEST(OnnxIo, NotProtobufIsRejectedNamingTheFile) {
  TempDir dir;
  std::string path = dir.File("garbage.onnx");
  WriteFile(path, std::string("\xff\xff\xff\xff\x0f", 5));
  auto model = LoadModel(path);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            path + ": not a valid ONNX protobuf file (parsing failed: truncated or not a model)");
  WriteFile(path, "");
  model = LoadModel(path);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), path + ": empty file");
  model = LoadModel(dir.File("missing.onnx"));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            dir.File("missing.onnx") + ": cannot read: No such file or directory");
}

TEST(OnnxIo, TruncatedFileIsRejected) {
  TempDir dir;
  onnx::ModelProto proto = SmallModel();
  *proto.mutable_graph()->mutable_initializer(0) =
      FloatTensor("w", {1000}, std::vector<float>(1000, 2.0f));
  std::string bytes = proto.SerializeAsString();
  std::string path = dir.File("cut.onnx");
  WriteFile(path, bytes.substr(0, bytes.size() / 2));
  auto model = LoadModel(path);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            path + ": not a valid ONNX protobuf file (parsing failed: truncated or not a model)");
}

TEST(OnnxIo, LoadRunsTheVerifier) {
  TempDir dir;
  onnx::ModelProto proto = SmallModel();
  proto.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  std::string path = dir.File("bad.onnx");
  WriteFile(path, proto.SerializeAsString());
  auto model = LoadModel(path);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), path + ": Add 'add': input 'nowhere' is not defined");
  LoadOptions no_verify;
  no_verify.verify = false;
  model = LoadModel(path, no_verify);
  ASSERT_TRUE(model.ok()) << model.status();
  onnx::ModelProto out;
  ASSERT_TRUE(ExportModel(**model, &out).ok());
  EXPECT_EQ(Diff(proto, out), "");  // even a broken model round-trips unverified
}

}  // namespace
}  // namespace onnx_opt
