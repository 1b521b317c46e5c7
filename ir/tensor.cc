#include "ir/tensor.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "ir/unaligned.h"
#include "quant/float16.h"

namespace onnx_opt {
namespace {

class StringBuffer final : public Buffer {
 public:
  explicit StringBuffer(std::string&& bytes) : bytes_(std::move(bytes)) {}
  const uint8_t* data() const override {
    return reinterpret_cast<const uint8_t*>(bytes_.data());
  }
  size_t size() const override { return bytes_.size(); }

 private:
  std::string bytes_;
};

class VectorBuffer final : public Buffer {
 public:
  explicit VectorBuffer(std::vector<uint8_t>&& bytes) : bytes_(std::move(bytes)) {}
  const uint8_t* data() const override { return bytes_.data(); }
  size_t size() const override { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

class MappedBuffer final : public Buffer {
 public:
  MappedBuffer(std::shared_ptr<MappedFile> file, size_t offset, size_t length)
      : file_(std::move(file)), offset_(offset), length_(length) {}
  const uint8_t* data() const override { return file_->data() + offset_; }
  size_t size() const override { return length_; }
  void ReleasePages() const override {
    // Only whole pages inside this buffer; the mapping is read-only, so nothing is lost.
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    uintptr_t begin = (reinterpret_cast<uintptr_t>(data()) + page - 1) / page * page;
    uintptr_t end = (reinterpret_cast<uintptr_t>(data()) + length_) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
  bool mapped() const override { return true; }
  void CopyTo(size_t offset, size_t length, uint8_t* dst) const override {
    file_->CopyTo(offset_ + offset, length, dst);
  }

 private:
  std::shared_ptr<MappedFile> file_;
  size_t offset_;
  size_t length_;
};

// Little-endian FNV-1a over 8-byte words: deterministic across runs and machines, unlike
// absl::Hash, because printed hashes end up in test expectations.
uint64_t HashBytes(uint64_t h, std::span<const uint8_t> bytes) {
  constexpr uint64_t kPrime = 1099511628211ULL;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * kPrime;
  }
  for (; i < bytes.size(); ++i) h = (h ^ bytes[i]) * kPrime;
  return h;
}

// Mapped files that keep their descriptor open for CopyTo. Bounded, so that a model with
// thousands of external data files does not run out of descriptors: the rest copy from the mapping.
constexpr int kMaxOpenMappedFiles = 64;
std::atomic<int> open_mapped_files{0};

}  // namespace

void Buffer::CopyTo(size_t offset, size_t length, uint8_t* dst) const {
  if (length > 0) std::memcpy(dst, data() + offset, length);
}

std::shared_ptr<const Buffer> Buffer::FromString(std::string&& bytes) {
  return std::make_shared<StringBuffer>(std::move(bytes));
}
std::shared_ptr<const Buffer> Buffer::FromVector(std::vector<uint8_t>&& bytes) {
  return std::make_shared<VectorBuffer>(std::move(bytes));
}
std::shared_ptr<const Buffer> Buffer::Copy(std::span<const uint8_t> bytes) {
  return FromVector(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}
std::shared_ptr<const Buffer> Buffer::Empty() {
  static const auto* empty = new std::shared_ptr<const Buffer>(FromVector({}));
  return *empty;
}

absl::StatusOr<std::shared_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat(path, ": mmap failed: ", std::strerror(err)));
    }
    file->data_ = static_cast<const uint8_t*>(p);
  }
  if (file->size_ > 0 && open_mapped_files.fetch_add(1) < kMaxOpenMappedFiles) {
    file->fd_ = fd;
  } else {
    if (file->size_ > 0) open_mapped_files.fetch_sub(1);
    ::close(fd);
  }
  return file;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) {
    ::close(fd_);
    open_mapped_files.fetch_sub(1);
  }
}

void MappedFile::CopyTo(size_t offset, size_t length, uint8_t* dst) const {
  // pread copies from the page cache inside the kernel; the bytes are the mapping's (the file
  // must not change under a loaded model anyway, see LoadModel).
  while (fd_ >= 0 && length > 0) {
    const ssize_t n = ::pread(fd_, dst, length, static_cast<off_t>(offset));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;  // fall back to the mapping
    }
    offset += static_cast<size_t>(n);
    dst += n;
    length -= static_cast<size_t>(n);
  }
  if (length > 0) std::memcpy(dst, data_ + offset, length);
}

std::shared_ptr<const Buffer> MappedFile::Slice(std::shared_ptr<MappedFile> file, size_t offset,
                                                size_t length) {
  return std::make_shared<MappedBuffer>(std::move(file), offset, length);
}

Tensor Tensor::FromStrings(std::vector<int64_t> dims, std::vector<std::string> strings) {
  Tensor t(DataType::kString, std::move(dims), Buffer::Empty());
  t.strings_ = std::move(strings);
  return t;
}

int64_t Tensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims_) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

absl::Status Tensor::CheckConsistent() const {
  int64_t n = num_elements();
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "': invalid dims (negative or element count overflows)"));
  }
  if (type_ == DataType::kString) {
    if (static_cast<int64_t>(strings_.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': shape has ", n,
                                                     " elements but ", strings_.size(),
                                                     " strings are stored"));
    }
    return absl::OkStatus();
  }
  std::optional<int64_t> expected = RawByteSize(type_, n);
  if (!expected) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': unsupported data type ",
                                                   static_cast<int>(type_)));
  }
  if (static_cast<int64_t>(bytes().size()) != *expected) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': shape needs ", *expected,
                                                   " bytes of ", ToAbsl(DataTypeName(type_)), " but ",
                                                   bytes().size(), " are stored"));
  }
  return absl::OkStatus();
}

bool Tensor::ContentEquals(const Tensor& other) const {
  if (type_ != other.type_ || dims_ != other.dims_) return false;
  if (type_ == DataType::kString) return strings_ == other.strings_;
  auto a = bytes();
  auto b = other.bytes();
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

uint64_t Tensor::ContentHash() const {
  uint64_t h = 14695981039346656037ULL;
  int32_t type = static_cast<int32_t>(type_);
  h = HashBytes(h, {reinterpret_cast<const uint8_t*>(&type), sizeof(type)});
  h = HashBytes(h, {reinterpret_cast<const uint8_t*>(dims_.data()), dims_.size() * 8});
  if (type_ == DataType::kString) {
    for (const std::string& s : strings_) {
      uint64_t len = s.size();
      h = HashBytes(h, {reinterpret_cast<const uint8_t*>(&len), 8});
      h = HashBytes(h, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    }
    return h;
  }
  return HashBytes(h, bytes());
}

namespace {

template <typename T, typename Out>
std::vector<Out> Widen(std::span<const uint8_t> bytes) {
  std::vector<Out> out(bytes.size() / sizeof(T));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<Out>(LoadUnaligned<T>(bytes.data() + i * sizeof(T)));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<float>> Tensor::ToFloats() const {
  if (absl::Status s = CheckConsistent(); !s.ok()) return s;
  auto b = bytes();
  switch (type_) {
    case DataType::kFloat:
      return Widen<float, float>(b);
    case DataType::kDouble:
      return Widen<double, float>(b);
    case DataType::kFloat16: {
      std::vector<float> out(b.size() / 2);
      for (size_t i = 0; i < out.size(); ++i) {
        out[i] = quant::HalfToFloat(LoadUnaligned<uint16_t>(b.data() + 2 * i));
      }
      return out;
    }
    case DataType::kBFloat16: {
      std::vector<float> out(b.size() / 2);
      for (size_t i = 0; i < out.size(); ++i) {
        out[i] = quant::BFloat16ToFloat(LoadUnaligned<uint16_t>(b.data() + 2 * i));
      }
      return out;
    }
    default:
      break;
  }
  absl::StatusOr<std::vector<int64_t>> ints = ToInt64s();
  if (!ints.ok()) return ints.status();
  return std::vector<float>(ints->begin(), ints->end());
}

absl::StatusOr<std::vector<int64_t>> Tensor::ToInt64s() const {
  if (absl::Status s = CheckConsistent(); !s.ok()) return s;
  auto b = bytes();
  switch (type_) {
    case DataType::kInt64:
      return Widen<int64_t, int64_t>(b);
    case DataType::kInt32:
      return Widen<int32_t, int64_t>(b);
    case DataType::kInt16:
      return Widen<int16_t, int64_t>(b);
    case DataType::kInt8:
      return Widen<int8_t, int64_t>(b);
    case DataType::kUint64:
      return Widen<uint64_t, int64_t>(b);
    case DataType::kUint32:
      return Widen<uint32_t, int64_t>(b);
    case DataType::kUint16:
      return Widen<uint16_t, int64_t>(b);
    case DataType::kUint8:
    case DataType::kBool:
      return Widen<uint8_t, int64_t>(b);
    case DataType::kInt4:
    case DataType::kUint4: {
      int64_t n = num_elements();
      std::vector<int64_t> out(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        int nibble = (b[i / 2] >> (4 * (i % 2))) & 0xf;
        out[i] = (type_ == DataType::kInt4 && nibble >= 8) ? nibble - 16 : nibble;
      }
      return out;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': ",
                                                     ToAbsl(DataTypeName(type_)),
                                                     " cannot be read as integers"));
  }
}

}  // namespace onnx_opt
