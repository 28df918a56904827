/*
 * libFuzzer target: the allowlist file parser, telnyx.allowlist.parse (what
 * scripts/rotate-ip-allowlist.lua reads FILE with), called by spec/fuzz/allowlist_harness.lua on
 * the input as text and as a file's lines. Properties: no crash, no sanitizer report, no Lua
 * error; text and file parse alike; a file is either refused with every bad line named by
 * number, or gives entries in normal form (parsing an entry's normal form gives it back)
 * without duplicates.
 */
#include <stdint.h>

#include "fuzz.h"

static const char fuzz_harness_key = 'a';

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_load_harness(fuzz_state(), "spec/fuzz/allowlist_harness.lua", &fuzz_harness_key);
  fuzz_cover_lua(fuzz_state());
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_run_harness(fuzz_state(), &fuzz_harness_key, (const char *)data, size);
  return 0;
}
