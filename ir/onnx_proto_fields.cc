#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "ir/onnx_internal.h"

namespace onnx_opt::internal {

using google::protobuf::UnknownFieldSet;

std::string UnknownBytes(const google::protobuf::Message& message) {
  const UnknownFieldSet& fields = message.GetReflection()->GetUnknownFields(message);
  std::string bytes;
  if (!fields.empty()) fields.SerializeToString(&bytes);
  return bytes;
}

EmptyStringFields EmptyStringsOf(const google::protobuf::Message& message) {
  EmptyStringFields present;
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::string scratch;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated() || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
        !reflection->HasField(message, field)) {
      continue;
    }
    if (reflection->GetStringReference(message, field, &scratch).empty()) {
      present.Add(field->number());
    }
  }
  return present;
}

absl::Status SetUnknown(const std::string& bytes, google::protobuf::Message* message) {
  if (bytes.empty()) return absl::OkStatus();
  if (!message->GetReflection()->MutableUnknownFields(message)->ParseFromString(bytes)) {
    return absl::InternalError(
        absl::StrCat("stored unknown fields of a ", message->GetTypeName(), " do not parse"));
  }
  return absl::OkStatus();
}

void RestoreEmptyStrings(const EmptyStringFields& fields, google::protobuf::Message* message) {
  if (fields.empty()) return;
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  for (int number = 1; number < 64; ++number) {
    if (!fields.Has(number)) continue;
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByNumber(number);
    if (field != nullptr && !field->is_repeated() &&
        field->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
        !reflection->HasField(*message, field)) {
      reflection->SetString(message, field, std::string());
    }
  }
}

void SerializeAround(google::protobuf::Message& message, int split, std::string* head,
                     std::string* tail) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields, later;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->number() > split) later.push_back(field);
  }
  std::unique_ptr<google::protobuf::Message> rest(message.New());
  reflection->SwapFields(&message, rest.get(), later);
  reflection->MutableUnknownFields(&message)->Swap(
      rest->GetReflection()->MutableUnknownFields(rest.get()));
  message.SerializeToString(head);
  rest->SerializeToString(tail);
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace onnx_opt::internal
