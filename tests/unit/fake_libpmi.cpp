// A PMI-1 library for test_pmi: the C API over a process-local dictionary,
// a program of one (rank 0, size 1). PMI_Abort records its code instead of
// exiting, for fake_pmi_abort_code().
#include <cstring>
#include <map>
#include <string>

namespace {

constexpr int kSuccess = 0;
constexpr int kFail = -1;
constexpr int kErrInit = 1;
constexpr int kErrInvalidArg = 3;
constexpr int kErrInvalidLength = 8;
constexpr int kNameMax = 64;
constexpr int kValueMax = 256;

bool initialized = false;
int abort_code = -1;
std::map<std::string, std::string>& dict() {
  static std::map<std::string, std::string> d;
  return d;
}

}  // namespace

extern "C" {

int PMI_Init(int* spawned) {
  if (!spawned) return kErrInvalidArg;
  *spawned = 0;
  dict().clear();
  abort_code = -1;
  initialized = true;
  return kSuccess;
}

int PMI_Finalize() {
  initialized = false;
  return kSuccess;
}

int PMI_Get_rank(int* rank) {
  if (!initialized) return kErrInit;
  *rank = 0;
  return kSuccess;
}

int PMI_Get_size(int* size) {
  if (!initialized) return kErrInit;
  *size = 1;
  return kSuccess;
}

int PMI_KVS_Get_name_length_max(int* len) {
  *len = kNameMax;
  return kSuccess;
}

int PMI_KVS_Get_value_length_max(int* len) {
  *len = kValueMax;
  return kSuccess;
}

int PMI_KVS_Get_my_name(char* name, int len) {
  if (!initialized) return kErrInit;
  if (len < 5) return kErrInvalidLength;
  std::strcpy(name, "fake");
  return kSuccess;
}

int PMI_KVS_Put(const char* kvsname, const char* key, const char* value) {
  if (!initialized) return kErrInit;
  if (std::strcmp(kvsname, "fake") != 0 || !*key) return kErrInvalidArg;
  dict()[key] = value;
  return kSuccess;
}

int PMI_KVS_Commit(const char*) {
  return initialized ? kSuccess : kErrInit;
}

int PMI_Barrier() {
  return initialized ? kSuccess : kErrInit;
}

int PMI_KVS_Get(const char* kvsname, const char* key, char* value, int len) {
  if (!initialized) return kErrInit;
  if (std::strcmp(kvsname, "fake") != 0) return kErrInvalidArg;
  auto it = dict().find(key);
  if (it == dict().end()) return kFail;
  if (static_cast<int>(it->second.size()) >= len) return kErrInvalidLength;
  std::strcpy(value, it->second.c_str());
  return kSuccess;
}

int PMI_Abort(int code, const char*) {
  abort_code = code;
  return kSuccess;
}

int fake_pmi_abort_code() {
  return abort_code;
}

}  // extern "C"
