// Fuzz target: the calibration files quantize-weights{calibration=FILE} reads - the JSON
// manifest (ActivationManifest::Load, passes/quantize/calibration_data.h) and the .npy
// arrays it lists (ParseNpy, passes/quantize/npy.cc), and the .calib file onnx-opt-calibrate
// writes (CalibFile, passes/quantize/calib_file.h: a manifest opening with its magic, whose
// every Hessian and histogram is read too).
//
// The first byte picks the reader: even -> the rest is a .npy file, odd -> the rest is a manifest,
// written to a scratch folder that also holds a.npy and b.npy (so listed files can exist).
// Properties beyond "no crash": every error is one line naming the file; a parsed array has as
// many values as its shape's element count.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "passes/quantize/calib_file.h"
#include "passes/quantize/calibration_data.h"
#include "passes/quantize/npy.h"

namespace {

const std::string& ScratchFolder() {
  static const std::string* folder = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "fuzz_calib.XXXXXX").string();
    auto* path = new std::string(::mkdtemp(pattern.data()));
    for (const char* name : {"a.npy", "b.npy"}) {
      std::ofstream(*path + "/" + name, std::ios::binary) << std::string(
          "\x93NUMPY\x01\x00\x3a\x00{'descr': '<f4', 'fortran_order': False, "
          "'shape': (1,), }\n\x00\x00\x80\x3f",
          72);
    }
    return path;
  }();
  return *folder;
}

// One line naming `name`; a listed file that is missing may instead be named itself (an absolute
// path in the manifest does not lie below the manifest's folder).
void CheckOneLine(const absl::Status& status, const std::string& name) {
  const std::string_view message(status.message().data(), status.message().size());
  const bool names_it = message.find(name) != std::string_view::npos ||
                        (absl::IsNotFound(status) && message.starts_with("calibration file "));
  if (message.find('\n') != std::string_view::npos || !names_it) {
    std::fprintf(stderr, "error is not one line naming %s: %.*s\n", name.c_str(),
                 static_cast<int>(message.size()), message.data());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 16)) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    const std::string name = "fuzz.npy";
    absl::StatusOr<onnx_opt::NpyArray> array = onnx_opt::ParseNpy(rest, name);
    if (!array.ok()) {
      CheckOneLine(array.status(), name);
      return 0;
    }
    int64_t count = 1;
    for (int64_t d : array->shape) count *= d;
    if (static_cast<size_t>(count) != array->values.size()) {
      std::fprintf(stderr, "shape holds %lld elements, array %zu\n", static_cast<long long>(count),
                   array->values.size());
      std::abort();
    }
    return 0;
  }
  const std::string manifest = ScratchFolder() + "/manifest.json";
  std::ofstream(manifest, std::ios::binary | std::ios::trunc) << rest;
  auto loaded = onnx_opt::ActivationManifest::Load(manifest);
  if (!loaded.ok()) CheckOneLine(loaded.status(), ScratchFolder());
  if (onnx_opt::IsCalibFile(manifest)) {
    auto file = onnx_opt::CalibFile::Open(manifest);
    if (!file.ok()) {
      CheckOneLine(file.status(), ScratchFolder());
      return 0;
    }
    auto all = (*file)->ReadAll();
    if (!all.ok()) CheckOneLine(all.status(), ScratchFolder());
  }
  return 0;
}
