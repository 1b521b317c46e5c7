// Fuzz target: protobuf bytes -> ModelProto -> ImportModel -> VerifyModel, then, for models the
// verifier accepts, the text printer and an export/import round trip.
//
// Properties checked beyond "no crash, no hang, no leak": errors are one line; a verified model
// exports, the export imports and verifies again, and exporting that gives the same bytes (a
// load/save cycle never silently changes a model it accepted).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "ir/onnx_io.h"
#include "ir/text/text.h"
#include "ir/verifier.h"
#include "onnx/onnx_pb.h"

namespace {

using onnx_opt::fuzz::FailIfMultiLine;

[[noreturn]] void Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  // No base directory: external data references are rejected, the fuzzer never opens files.
  auto model = onnx_opt::ImportModel(std::move(proto), "");
  if (!model.ok()) {
    FailIfMultiLine(model.status(), "import");
    return 0;
  }
  absl::Status verified = onnx_opt::VerifyModel(**model);
  if (!verified.ok()) {
    FailIfMultiLine(verified, "verifier");
    return 0;
  }
  // Printing must cope with whatever the verifier accepted.
  onnx_opt::PrintOptions print_options;
  print_options.elide_tensors_larger_than = 64;
  (void)onnx_opt::PrintModel(**model, print_options);

  onnx::ModelProto exported;
  if (absl::Status s = onnx_opt::ExportModel(**model, &exported); !s.ok()) Fail("export", s);
  std::string first;
  if (!exported.SerializeToString(&first)) Fail("serialize", absl::InternalError("failed"));
  auto reimported = onnx_opt::ImportModel(std::move(exported), "");
  if (!reimported.ok()) Fail("re-import of an exported model", reimported.status());
  if (absl::Status s = onnx_opt::VerifyModel(**reimported); !s.ok()) {
    Fail("verifier on the re-imported model", s);
  }
  onnx::ModelProto exported_again;
  if (absl::Status s = onnx_opt::ExportModel(**reimported, &exported_again); !s.ok()) {
    Fail("second export", s);
  }
  std::string second;
  exported_again.SerializeToString(&second);
  if (first != second) {
    std::fprintf(stderr, "export/import/export changed the model (%zu vs %zu bytes)\n",
                 first.size(), second.size());
    std::abort();
  }
  return 0;
}
