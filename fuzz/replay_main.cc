// Runs a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer, so the seed corpus
// and every saved crash reproducer are replayed by ctest in any build (g++, ASan, release).
//
//   <target>-replay <file-or-directory>...   (directories are walked recursively)
//
// Options: --ext=.onnxtxt only takes files with that ending from directories (repeatable).
// Exits non-zero when no input was found; a crash or sanitizer report ends the process anyway.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

bool HasWantedEnding(const std::filesystem::path& path, const std::vector<std::string>& endings) {
  if (endings.empty()) return true;
  const std::string name = path.filename().string();
  for (const auto& ending : endings) {
    if (name.size() >= ending.size() &&
        name.compare(name.size() - ending.size(), ending.size(), ending) == 0) {
      return true;
    }
  }
  return false;
}

bool RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Copy into an exactly sized heap block so ASan catches reads past the end, as libFuzzer does.
  auto* exact = new uint8_t[bytes.size()];
  if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), exact);
  LLVMFuzzerTestOneInput(exact, bytes.size());
  delete[] exact;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> endings;
  std::vector<std::filesystem::path> roots;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--ext=", 0) == 0) {
      endings.push_back(arg.substr(6));
    } else {
      roots.emplace_back(arg);
    }
  }
  size_t count = 0;
  bool ok = true;
  for (const auto& root : roots) {
    std::error_code ec;
    if (std::filesystem::is_directory(root, ec)) {
      std::vector<std::filesystem::path> files;
      for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && HasWantedEnding(it->path(), endings)) {
          files.push_back(it->path());
        }
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) {
        ok &= RunFile(file);
        ++count;
      }
    } else if (std::filesystem::is_regular_file(root, ec)) {
      ok &= RunFile(root);
      ++count;
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", root.c_str());
      ok = false;
    }
  }
  std::printf("replay: %zu inputs\n", count);
  return ok && count > 0 ? 0 : 1;
}
