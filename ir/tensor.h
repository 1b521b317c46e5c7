// Constant tensors of the IR: a type, a shape and an immutable shared byte buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/types.h"

namespace onnx_opt {

// Immutable bytes. Subclasses own them in different ways (a moved-in std::string, a vector, a
// region of a memory-mapped file), so tensor data is never copied just to change owners.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual const uint8_t* data() const = 0;
  virtual size_t size() const = 0;
  std::span<const uint8_t> bytes() const { return {data(), size()}; }
  // Hint that the bytes will not be read again soon (e.g. once saved): a buffer mapped from a
  // file drops its resident pages, which are read back from the file if touched again; other
  // buffers ignore it. Keeps peak memory low when streaming mapped weights to a new file.
  virtual void ReleasePages() const {}
  // True for a region of a memory-mapped file: bytes that are cheaper to copy out with CopyTo
  // than to read in place (each first touch of a mapped page is a page-table fill, costly in a
  // virtual machine; copied-out bytes leave the mapping untouched and not resident).
  virtual bool mapped() const { return false; }
  // Copies bytes [offset, offset + length) to dst (the caller has checked the range). A mapped
  // buffer reads them from its file with pread(). Safe to call from several threads at once.
  virtual void CopyTo(size_t offset, size_t length, uint8_t* dst) const;

  static std::shared_ptr<const Buffer> FromString(std::string&& bytes);
  static std::shared_ptr<const Buffer> FromVector(std::vector<uint8_t>&& bytes);
  static std::shared_ptr<const Buffer> Copy(std::span<const uint8_t> bytes);
  static std::shared_ptr<const Buffer> Empty();
};

// A read-only memory mapping of a whole file; buffers that view part of it keep it alive.
class MappedFile {
 public:
  static absl::StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Copies [offset, offset + length) of the file to dst with pread() when the file is still
  // open, else from the mapping (which is the same bytes).
  void CopyTo(size_t offset, size_t length, uint8_t* dst) const;
  // A buffer viewing [offset, offset+length); the caller has checked the range.
  static std::shared_ptr<const Buffer> Slice(std::shared_ptr<MappedFile> file, size_t offset,
                                             size_t length);

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  // The open file for CopyTo, or -1 (only a bounded number of mappings keep theirs open).
  int fd_ = -1;
};

// A constant tensor. Numeric data is held in ONNX raw_data layout (little-endian, 4-bit types
// packed low nibble first); string tensors hold their elements in `strings`.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DataType type, std::vector<int64_t> dims, std::shared_ptr<const Buffer> data)
      : type_(type), dims_(std::move(dims)), data_(std::move(data)) {}

  // Builds a tensor from typed values (copied). T must match the element size of `type`.
  template <typename T>
  static Tensor FromValues(DataType type, std::vector<int64_t> dims, std::span<const T> values) {
    return Tensor(type, std::move(dims),
                  Buffer::Copy({reinterpret_cast<const uint8_t*>(values.data()),
                                values.size() * sizeof(T)}));
  }
  static Tensor FromStrings(std::vector<int64_t> dims, std::vector<std::string> strings);

  DataType type() const { return type_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  // Product of dims (1 for a scalar); -1 on overflow or negative dims.
  int64_t num_elements() const;
  // Raw bytes (empty for string tensors).
  std::span<const uint8_t> bytes() const {
    return data_ ? data_->bytes() : std::span<const uint8_t>();
  }
  const std::shared_ptr<const Buffer>& buffer() const { return data_; }
  const std::vector<std::string>& strings() const { return strings_; }

  // Typed view of the data; T must be the C++ type of the element type (float for kFloat,
  // uint16_t for kFloat16/kBFloat16, ...). Buffers built in memory are suitably aligned; buffers
  // mapped from a file (LoadModel's raw_data, external data) may not be: check the address or
  // use CopyValues.
  template <typename T>
  std::span<const T> values() const {
    auto b = bytes();
    return {reinterpret_cast<const T*>(b.data()), b.size() / sizeof(T)};
  }
  template <typename T>
  std::vector<T> CopyValues() const {
    auto b = bytes();
    std::vector<T> out(b.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), b.data(), out.size() * sizeof(T));
    return out;
  }
  // Values as float for float32/float16/bfloat16/double tensors; as double-checked conversion of
  // integer types otherwise. Fails for string and packed types.
  absl::StatusOr<std::vector<float>> ToFloats() const;
  // Values as int64 for any integer or bool type, including int4/uint4 (unpacked).
  absl::StatusOr<std::vector<int64_t>> ToInt64s() const;

  // Checks that the byte size matches the shape and type.
  absl::Status CheckConsistent() const;
  // True when type, dims and bytes (or strings) are equal.
  bool ContentEquals(const Tensor& other) const;
  // A 64-bit content hash (type, dims and data) for dedup and elided printing.
  uint64_t ContentHash() const;

  // Fields kept for a lossless round trip.
  std::string name;
  std::string doc_string;
  std::string unknown_fields;  // serialized fields this build's onnx.proto does not know
  EmptyStringFields empty_fields;
  // The source TensorProto held the values in its typed field (float_data, int64_data, ...) or in
  // no field at all, not in raw_data: the exporter writes them back that way. False for tensors
  // built in memory, which are written as raw_data.
  bool typed_field_data = false;

 private:
  DataType type_ = DataType::kUndefined;
  std::vector<int64_t> dims_;
  std::shared_ptr<const Buffer> data_;
  std::vector<std::string> strings_;
};

using TensorPtr = std::shared_ptr<const Tensor>;

}  // namespace onnx_opt
